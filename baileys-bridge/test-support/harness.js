// Runs a bridge in-process on PassThrough streams with an in-memory fake host that answers auth calls.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createBridge } from '../src/bridge.js';
import { createLogger } from '../src/logger.js';

export class FakeHostAuthStore {
  constructor() {
    this.creds = new Map(); // session → serialized creds
    this.keys = new Map(); // `${session}/${category}/${id}` → serialized value
    this.sentMessages = new Map(); // `${session}/${id}` → base64 proto.Message, as the host keeps them
    this.calls = [];
    this.failOps = new Set();
  }

  answer(call) {
    this.calls.push(call);
    if (this.failOps.has(call.op)) return { ok: false, error: { code: 'db_down', message: 'database unavailable' } };
    const { session, op, params } = call;
    switch (op) {
      case 'load_creds':
        return { ok: true, result: { creds: this.creds.get(session) ?? null } };
      case 'save_creds':
        this.creds.set(session, params.creds);
        return { ok: true, result: {} };
      case 'get_keys': {
        const values = {};
        for (const id of params.ids) values[id] = this.keys.get(`${session}/${params.category}/${id}`) ?? null;
        return { ok: true, result: { values } };
      }
      case 'set_keys':
        for (const [category, entries] of Object.entries(params.data)) {
          for (const [id, value] of Object.entries(entries)) {
            const key = `${session}/${category}/${id}`;
            if (value === null) this.keys.delete(key);
            else this.keys.set(key, value);
          }
        }
        return { ok: true, result: {} };
      case 'store_message':
        this.sentMessages.set(`${session}/${params.id}`, params.content);
        return { ok: true, result: {} };
      case 'get_message':
        return { ok: true, result: { content: this.sentMessages.get(`${session}/${params.id}`) ?? null } };
      case 'clear':
        this.creds.delete(session);
        for (const key of [...this.keys.keys()]) if (key.startsWith(`${session}/`)) this.keys.delete(key);
        return { ok: true, result: {} };
      default:
        return { ok: false, error: { code: 'unknown_op', message: op } };
    }
  }
}

export async function startBridge({ makeSocket, downloadMedia, env = {}, authStore = new FakeHostAuthStore() } = {}) {
  // Media travels as files in the host's data folder: every in-process bridge gets its own.
  const dataDir = env.WAPBRIDGE_BRIDGE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'bridge-data-'));
  env = { WAPBRIDGE_BRIDGE_DATA_DIR: dataDir, ...env };
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const logLines = [];
  const logStream = { write: (line) => logLines.push(JSON.parse(line)) };
  const logger = createLogger({ level: 'debug', stream: logStream });
  const messages = [];
  const waiters = [];
  let pendingText = '';
  let nextId = 1;

  const send = (message) => stdin.write(JSON.stringify(message) + '\n');

  stdout.on('data', (chunk) => {
    pendingText += chunk.toString('utf8');
    let newline;
    while ((newline = pendingText.indexOf('\n')) !== -1) {
      const message = JSON.parse(pendingText.slice(0, newline));
      pendingText = pendingText.slice(newline + 1);
      if (message.type === 'auth') {
        const answer = authStore.answer(message);
        send({ type: 'auth_result', id: message.id, ...answer });
      }
      messages.push(message);
      for (const waiter of [...waiters]) waiter();
    }
  });

  const bridge = await createBridge({ stdin, stdout, env, makeSocket, downloadMedia, logger });
  const finished = bridge.run();

  function waitFor(predicate, { timeoutMs = 2000, description = 'message' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find(predicate);
        if (found) {
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.splice(waiters.indexOf(check), 1);
        reject(new Error(`timed out waiting for ${description}; got:\n${messages.map((m) => JSON.stringify(m)).join('\n')}`));
      }, timeoutMs);
      waiters.push(check);
      check();
    });
  }

  async function request(method, params = {}) {
    const id = `r${nextId++}`;
    send({ type: 'request', id, method, params });
    return waitFor((m) => m.type === 'response' && m.id === id, { description: `response to ${method}` });
  }

  const events = (session, event) =>
    messages.filter((m) => m.type === 'event' && m.session === session && (!event || m.event === event));

  const waitForEvent = (session, event, predicate = () => true) =>
    waitFor((m) => m.type === 'event' && m.session === session && m.event === event && predicate(m.data), {
      description: `${event} event of ${session}`,
    });

  async function stop() {
    stdin.end();
    await finished;
  }

  /** The bytes of a `message_media` event's file (its `path` in the data folder). */
  const mediaBytes = (media) => readFileSync(media.path);

  return { bridge, messages, logLines, authStore, send, request, waitFor, waitForEvent, events, stop, stdin, dataDir, mediaBytes };
}

export const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));
