// A stand-in for Baileys' makeWASocket: exposes the parts of a socket the bridge uses and lets tests emit
// Baileys events by hand. Real sockets emit `connecting` on the next tick; so does this one.

import { EventEmitter } from 'node:events';

export class FakeSocket {
  constructor(config) {
    this.config = config;
    this.emitter = new EventEmitter();
    this.ev = {
      on: (event, listener) => this.emitter.on(event, listener),
      off: (event, listener) => this.emitter.off(event, listener),
      emit: (event, payload) => this.emitter.emit(event, payload),
    };
    this.user = undefined;
    this.sent = [];
    this.presences = [];
    this.reads = [];
    this.chatModifications = [];
    this.subscriptions = [];
    this.pairingRequests = [];
    this.ended = false;
    this.loggedOut = false;
    this.sendError = null;
    process.nextTick(() => this.ev.emit('connection.update', { connection: 'connecting' }));
  }

  async sendMessage(jid, content, options) {
    if (this.sendError) throw this.sendError;
    this.sent.push({ jid, content, options });
    return { key: { remoteJid: jid, fromMe: true, id: options?.messageId ?? 'GENERATED' }, messageTimestamp: 1764288000 };
  }

  async sendPresenceUpdate(state, jid) {
    this.presences.push({ state, jid });
  }

  async readMessages(keys) {
    this.reads.push(keys);
  }

  async chatModify(mod, jid) {
    if (this.sendError) throw this.sendError;
    this.chatModifications.push({ mod, jid });
  }

  async presenceSubscribe(jid) {
    this.subscriptions.push(jid);
  }

  async requestPairingCode(phone) {
    this.pairingRequests.push(phone);
    return 'ABCD1234';
  }

  async logout() {
    this.loggedOut = true;
    // Like Baileys: the close arrives asynchronously, after logout() resolved.
    setTimeout(() => this.close(401, 'Intentional Logout'), 5);
  }

  async end() {
    this.ended = true;
  }

  // ——— test helpers ———
  qr(code = '2@fake-qr') {
    this.ev.emit('connection.update', { qr: code });
  }

  open(me = { id: '491701234567:12@s.whatsapp.net', lid: '123456789:12@lid', name: 'Shop' }) {
    this.user = me;
    this.ev.emit('connection.update', { connection: 'open' });
  }

  close(statusCode, message = 'closed') {
    this.ev.emit('connection.update', {
      connection: 'close',
      lastDisconnect: { error: boomLike(message, statusCode), date: new Date() },
    });
  }
}

/** A makeSocket replacement remembering every socket it made. */
export function createFakeSocketFactory() {
  const sockets = [];
  const makeSocket = (config) => {
    const socket = new FakeSocket(config);
    sockets.push(socket);
    return socket;
  };
  return { makeSocket, sockets, last: () => sockets[sockets.length - 1] };
}

/** Baileys closes with @hapi/boom errors; the bridge only reads `message` and `output.statusCode`. */
export function boomLike(message, statusCode) {
  return Object.assign(new Error(message), { isBoom: true, output: { statusCode, payload: { statusCode } } });
}
