// Refuses, in this process, any TCP connect or DNS lookup that is not loopback, so a test driving the
// real Baileys cannot reach WhatsApp (or anything else) by mistake. Import it before anything else.
// (A suite-wide `--import` preload can replace this; it is idempotent with one.)

import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const GUARDED = Symbol.for('wapbridge.loopbackGuard');

export function isLoopbackHost(host) {
  if (host === undefined || host === null || host === '') return true; // Node defaults to localhost
  const name = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  return name === 'localhost' || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name) || name === '::ffff:127.0.0.1';
}

function refuse(what) {
  const error = new Error(`loopback guard: refused ${what} (tests may only use 127.0.0.0/8 and ::1)`);
  error.code = 'ERR_TEST_NETWORK_REFUSED';
  return error;
}

if (!globalThis[GUARDED]) {
  globalThis[GUARDED] = true;

  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    // Node calls this with (options[, cb]), (port[, host][, cb]), (path[, cb]) or a normalized [options, cb] array.
    let options = args[0];
    if (Array.isArray(options)) options = options[0];
    if (typeof options !== 'object' || options === null) {
      options = typeof options === 'string' && Number.isNaN(Number(options)) ? { path: options } : { port: options, host: typeof args[1] === 'string' ? args[1] : undefined };
    }
    if (options.path === undefined && !isLoopbackHost(options.host)) {
      throw refuse(`connect to ${options.host}:${options.port}`);
    }
    return connect.apply(this, args);
  };

  const guardLookup = (lookup) =>
    function guardedLookup(hostname, ...rest) {
      if (!isLoopbackHost(hostname)) {
        const callback = rest.find((arg) => typeof arg === 'function');
        const error = refuse(`DNS lookup of ${hostname}`);
        if (callback) {
          process.nextTick(callback, error);
          return {};
        }
        throw error;
      }
      return lookup.call(this, hostname, ...rest);
    };
  dns.lookup = guardLookup(dns.lookup);
  const promisesLookup = dns.promises.lookup;
  dns.promises.lookup = async function guardedPromisesLookup(hostname, ...rest) {
    if (!isLoopbackHost(hostname)) throw refuse(`DNS lookup of ${hostname}`);
    return promisesLookup.call(this, hostname, ...rest);
  };
  for (const name of ['resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveCname', 'resolveMx', 'resolveTxt', 'resolveSrv']) {
    const original = dns[name];
    if (typeof original !== 'function') continue;
    dns[name] = function guardedResolve(hostname, ...rest) {
      if (!isLoopbackHost(hostname)) {
        const callback = rest.find((arg) => typeof arg === 'function');
        const error = refuse(`DNS ${name} of ${hostname}`);
        if (callback) return process.nextTick(callback, error);
        throw error;
      }
      return original.call(this, hostname, ...rest);
    };
    const originalPromise = dns.promises[name];
    if (typeof originalPromise === 'function') {
      dns.promises[name] = async function guardedPromiseResolve(hostname, ...rest) {
        if (!isLoopbackHost(hostname)) throw refuse(`DNS ${name} of ${hostname}`);
        return originalPromise.call(this, hostname, ...rest);
      };
    }
  }
  // Named ESM imports of node:dns (`import { lookup } from 'node:dns'`) see the patched functions too.
  syncBuiltinESMExports();
}
