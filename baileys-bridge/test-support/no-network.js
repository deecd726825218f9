// Test preload: no test may reach the network. `npm test` loads it with `node --import`, and it adds itself to
// NODE_OPTIONS so every Node process a test starts (the bridges of the child-process tests and of the C# tests)
// runs under it too. A connection or DNS lookup of anything but 127.0.0.0/8, ::1 and `localhost` fails with
// code ERR_TEST_NETWORK_GUARD before a packet is sent; each refusal is also printed to stderr and makes the
// process exit with code 1, so a test cannot pass by swallowing the error. Tests that provoke refusals on
// purpose take them back with `takeRefusals()`.

import net from 'node:net';
import dns from 'node:dns';

export const GUARD_CODE = 'ERR_TEST_NETWORK_GUARD';

const state = (globalThis[Symbol.for('wapbridge.noNetwork')] ??= { installed: false, refusals: [] });

const loopback = new net.BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address) {
  if (typeof address !== 'string') return false;
  const family = net.isIP(address);
  if (family === 4) return loopback.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? loopback.check(mapped[1], 'ipv4') : loopback.check(address, 'ipv6');
}

/** Hosts a test may name: loopback literals and `localhost` (which resolves from the hosts file). */
export function isAllowedHost(host) {
  if (typeof host !== 'string') return false;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isLoopbackAddress(bare) || bare.replace(/\.$/, '').toLowerCase() === 'localhost';
}

/** The refusals so far, which the caller thereby expects: they no longer fail the process. */
export function takeRefusals() {
  return state.refusals.splice(0);
}

function refusal(what) {
  const error = new Error(
    `test network guard refused ${what}: tests may only reach 127.0.0.0/8, ::1 and localhost ` +
      '(point the code under test at a loopback port or a .invalid name)',
  );
  error.code = GUARD_CODE;
  state.refusals.push(error.message);
  process.stderr.write(`[no-network] ${error.message}\n`);
  return error;
}

/** Where `socket.connect(...)` goes, in any of its call forms; null for IPC paths, which are no network. */
function connectTarget(args) {
  // net.connect/tls.connect hand over their normalised arguments as [options, callback].
  let [first, second] = Array.isArray(args[0]) ? args[0] : args;
  if (first !== null && typeof first === 'object') {
    if (first.path) return null;
    return { host: first.host || 'localhost', port: first.port };
  }
  if (typeof first === 'string' && Number.isNaN(Number(first))) return null;
  return { host: typeof second === 'string' ? second : 'localhost', port: first };
}

function install() {
  // net.connect, net.createConnection, tls.connect (without an existing socket), http(s) agents, ws and fetch
  // all open their TCP connection through this one method.
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const target = connectTarget(args);
    if (target && !isAllowedHost(target.host)) {
      const error = refusal(`a connection to ${target.host}:${target.port}`);
      process.nextTick(() => this.destroy(error));
      return this;
    }
    return connect.apply(this, args);
  };

  const lookup = dns.lookup;
  dns.lookup = function guardedLookup(hostname, options, callback) {
    if (typeof options === 'function') [callback, options] = [options, {}];
    if (hostname && !isAllowedHost(hostname)) {
      process.nextTick(callback, refusal(`a DNS lookup of ${hostname}`));
      return {};
    }
    return lookup.call(this, hostname, options, (error, address, family) => {
      const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      const outside = error ? undefined : addresses.find((entry) => entry && !isLoopbackAddress(entry));
      if (outside) callback(refusal(`${hostname} resolving to ${outside}`));
      else callback(error, address, family);
    });
  };

  const promisedLookup = dns.promises.lookup;
  dns.promises.lookup = async function guardedPromisedLookup(hostname, options) {
    if (hostname && !isAllowedHost(hostname)) throw refusal(`a DNS lookup of ${hostname}`);
    const result = await promisedLookup.call(this, hostname, options);
    const outside = (Array.isArray(result) ? result : [result]).find((entry) => entry.address && !isLoopbackAddress(entry.address));
    if (outside) throw refusal(`${hostname} resolving to ${outside.address}`);
    return result;
  };

  const lookupService = dns.lookupService;
  dns.lookupService = function guardedLookupService(address, port, callback) {
    if (!isLoopbackAddress(address)) {
      process.nextTick(callback, refusal(`a reverse DNS lookup of ${address}`));
      return {};
    }
    return lookupService.call(this, address, port, callback);
  };

  // The resolve family always asks the configured DNS servers, so nothing in a test may use it.
  const queries = Object.keys(dns).filter((name) => /^(resolve|reverse)/.test(name));
  for (const name of queries) {
    for (const target of [dns, dns.Resolver.prototype]) {
      if (typeof target[name] !== 'function') continue;
      target[name] = function refusedQuery(...args) {
        const error = refusal(`a DNS query (${name} ${args[0]})`);
        const callback = args.at(-1);
        if (typeof callback !== 'function') throw error;
        process.nextTick(callback, error);
        return {};
      };
    }
    for (const target of [dns.promises, dns.promises.Resolver.prototype]) {
      if (typeof target[name] !== 'function') continue;
      target[name] = async function refusedPromisedQuery(query) {
        throw refusal(`a DNS query (${name} ${query})`);
      };
    }
  }

  process.on('exit', () => {
    if (state.refusals.length === 0) return;
    process.stderr.write(`[no-network] ${state.refusals.length} network access(es) refused; failing this process\n`);
    process.exitCode = 1;
  });

  // Child processes (bridges under test) inherit the guard.
  const self = `--import=${import.meta.url}`;
  const options = process.env.NODE_OPTIONS ?? '';
  if (!options.includes(self)) process.env.NODE_OPTIONS = `${options} ${self}`.trim();
}

if (!state.installed) {
  state.installed = true;
  install();
}
