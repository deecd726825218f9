// Test-side helpers for driving the real Baileys against the fake server: an in-memory auth state that
// survives socket restarts, and a small wrapper collecting a socket's events.

import makeWASocket, { Browsers, initAuthCreds } from 'baileys';
import pino from 'pino';

/** Baileys' auth state in memory: `creds` plus a Map-backed signal key store (survives new sockets). */
export function createMemoryAuthState() {
  const creds = initAuthCreds();
  const store = new Map(); // `${type}/${id}` → value
  const keys = {
    async get(type, ids) {
      const result = {};
      for (const id of ids) {
        const value = store.get(`${type}/${id}`);
        if (value !== undefined) result[id] = value;
      }
      return result;
    },
    async set(data) {
      for (const [type, entries] of Object.entries(data)) {
        for (const [id, value] of Object.entries(entries ?? {})) {
          if (value === null || value === undefined) store.delete(`${type}/${id}`);
          else store.set(`${type}/${id}`, value);
        }
      }
    },
  };
  return { state: { creds, keys }, store };
}

/**
 * Opens a real Baileys socket on the fake server and records what it emits.
 * @param {import('../fake-wa-server.js').FakeWa} wa
 * @param {ReturnType<typeof createMemoryAuthState>} auth
 * @param {object} [config] extra makeWASocket config (e.g. getMessage)
 */
export function connectClient(wa, auth, config = {}) {
  const logger = pino({ level: process.env.FAKE_WA_LOG_LEVEL ?? 'silent' });
  const sock = makeWASocket({
    waWebSocketUrl: wa.url,
    auth: auth.state,
    logger,
    browser: Browsers.ubuntu('Chrome'),
    connectTimeoutMs: 5000,
    defaultQueryTimeoutMs: 5000,
    qrTimeout: 10000,
    markOnlineOnConnect: false,
    ...config,
  });
  const updates = [];
  const upserts = [];
  const messageUpdates = [];
  const listeners = new Set();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  sock.ev.on('creds.update', (update) => Object.assign(auth.state.creds, update));
  sock.ev.on('connection.update', (update) => {
    updates.push(update);
    notify();
  });
  sock.ev.on('messages.upsert', (upsert) => {
    upserts.push(upsert);
    notify();
  });
  sock.ev.on('messages.update', (list) => {
    messageUpdates.push(...list);
    notify();
  });

  /** Resolves with the first recorded item (past or future) of `list()` satisfying `predicate`. */
  function waitUntil(list, predicate, { timeoutMs = 5000, description = 'event' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = list().find(predicate);
        if (found === undefined) return false;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no ${description} within ${timeoutMs} ms; connection updates: ${JSON.stringify(updates.map(summarize))}`));
      }, timeoutMs);
      if (!check()) listeners.add(check);
    });
  }

  return {
    sock,
    updates,
    upserts,
    messageUpdates,
    waitForQr: (options) => waitUntil(() => updates, (u) => !!u.qr, { description: 'qr', ...options }).then((u) => u.qr),
    waitForOpen: (options) => waitUntil(() => updates, (u) => u.connection === 'open', { description: 'open', ...options }),
    waitForClose: (options) =>
      waitUntil(() => updates, (u) => u.connection === 'close', { description: 'close', ...options }).then((u) => ({
        statusCode: u.lastDisconnect?.error?.output?.statusCode,
        error: u.lastDisconnect?.error,
      })),
    waitForUpsert: (predicate, options) =>
      waitUntil(() => upserts.flatMap((upsert) => upsert.messages.map((message) => ({ message, type: upsert.type }))), predicate, {
        description: 'messages.upsert',
        ...options,
      }),
    waitForMessageUpdate: (predicate, options) => waitUntil(() => messageUpdates, predicate, { description: 'messages.update', ...options }),
    /**
     * The first status `predicate` accepts for message `id`, from `messages.update` or from the message's
     * own upsert: Baileys folds an update into a still-buffered upsert (its event buffer flushes ~100 ms
     * after a send), so a fast ack or receipt shows up as the upserted message's `status` instead.
     */
    waitForStatus: (id, predicate, options) =>
      waitUntil(
        () => [
          ...messageUpdates.filter((u) => u.key.id === id && u.update.status !== undefined).map((u) => ({ ...u.update, source: 'messages.update' })),
          ...upserts.flatMap((upsert) => upsert.messages).filter((m) => m.key.id === id && m.status !== undefined).map((m) => ({ status: m.status, messageStubParameters: m.messageStubParameters, source: 'messages.upsert' })),
        ],
        predicate,
        { description: `status of ${id}`, ...options },
      ),
    end: () => sock.end(undefined),
  };
}

function summarize(update) {
  const { qr, lastDisconnect, ...rest } = update;
  return { ...rest, ...(qr ? { qr: '…' } : {}), ...(lastDisconnect ? { statusCode: lastDisconnect.error?.output?.statusCode, error: lastDisconnect.error?.message } : {}) };
}
