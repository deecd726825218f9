// A fake WhatsApp server on loopback that the real Baileys `makeWASocket` connects to
// (`waWebSocketUrl: wa.url`). It speaks the real wire protocol: Noise XX with a test certificate, binary
// nodes, QR and pairing-code linking, the 515 restart and login, the IQs Baileys sends after login, and
// end-to-end encrypted messages with contacts played by libsignal parties. See fake-wa/README.md.
// This file is the server's API (FakeWa); each part of what it does lives in fake-wa/, by seam.

import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { createTestCertificateAuthority, trustTestRoot } from './fake-wa/cert.js';
import { handleClientNode } from './fake-wa/client-messages.js';
import { FakeConnection } from './fake-wa/connection.js';
import { buildMessageNode, sendMedia, sendMessage, sendReceipt } from './fake-wa/contact-sends.js';
import { sendCall, sendChatState, sendPresence } from './fake-wa/conversation.js';
import { generateKeyPair } from './fake-wa/crypto.js';
import { Directory, parseJid, SERVER_JID } from './fake-wa/directory.js';
import { addGroup, notifyGroup, participantsChange } from './fake-wa/groups.js';
import { enterPairingCode, scanQr } from './fake-wa/linking.js';
import { closeWith, flushOffline, handleHandshake, sendHistorySync } from './fake-wa/login.js';
import { MediaHost } from './fake-wa/media.js';
import { DEFAULT_WAIT_MS, waitFor } from './fake-wa/waits.js';

export { parseJid } from './fake-wa/directory.js';
/** Absolute path of the `--import` preload that makes a child process trust a FakeWa root (see childEnv). */
export const TRUST_TEST_ROOT_PRELOAD = fileURLToPath(new URL('./fake-wa/trust-test-root.js', import.meta.url));
export { describe as describeNode } from './fake-wa/nodes.js';

/**
 * @param {object} [options]
 * @param {Array<string|{phone: string, lid?: string|false, name?: string}>} [options.registered] numbers on WhatsApp
 * @param {{phone?: string, lid?: string, pushName?: string}} [options.account] the account the client links to
 * @param {boolean} [options.trustRoot=true] make this process's Baileys trust the test certificate
 * @param {boolean|{conversations?: object[]}} [options.historySync=true] the phone sends an inline initial history
 *   sync after a device's first login, as the real phone does (empty, or with these `proto.Conversation`s); without
 *   it Baileys holds events back for 20 s
 * @param {number} [options.qrRefs=5] QR references in `pair-device`
 * @param {{private: Buffer, public: Buffer}} [options.rootKeyPair] a fixed test root
 * @param {boolean|{keepUploads?: boolean}} [options.media] run a loopback media host (HTTPS uploads, see
 *   fake-wa/media.js); the client then needs `fetchAgent: wa.media.agent` (or NODE_EXTRA_CA_CERTS)
 */
export async function startFakeWa(options = {}) {
  const wa = new FakeWa(options);
  await wa.listen();
  return wa;
}

export class FakeWa extends EventEmitter {
  constructor({ registered = [], account, trustRoot = true, historySync = true, qrRefs = 5, rootKeyPair, media = false } = {}) {
    super();
    this.mediaOptions = media;
    this.media = null;
    this.directory = new Directory({ account, registered });
    this.authority = createTestCertificateAuthority(rootKeyPair);
    this.staticKeyPair = generateKeyPair();
    this.noise = { staticKeyPair: this.staticKeyPair, certChain: this.authority.certChainFor(this.staticKeyPair.public) };
    this.restoreRoot = trustRoot ? trustTestRoot(this.authority) : () => {};
    this.historySync = historySync;
    this.qrRefs = qrRefs;
    this.connections = new Set();
    /** Every node the client sent: { connection, node, at }. */
    this.received = [];
    /** Every message the contacts' parties decrypted (see fake-wa/client-messages.js). */
    this.decrypted = [];
    /** IQs the server had no answer for (answered with 501). */
    this.unhandled = [];
    this.errors = [];
    this.ackErrors = []; // { match(stanza) → boolean, code, once }
    this.loginFailures = []; // { code, attrs, once }
    this.offlineQueue = [];
    this.pairingCodeRequests = [];
    this.mexAnswers = new Map(); // query id → data
    this.props = { 10518: 'true' };
    this.silent = false;
    this.groups = new Map(); // group jid → group (fake-wa/groups.js)
  }

  get account() {
    return this.directory.account;
  }

  /**
   * Environment for a child process that runs Baileys against this server with
   * `--import <TRUST_TEST_ROOT_PRELOAD>` (see fake-wa/trust-test-root.js).
   */
  get childEnv() {
    return {
      WAPBRIDGE_FAKE_WA_ROOT: `${this.authority.serial}:${Buffer.from(this.authority.root.public).toString('hex')}`,
      ...(this.media ? { NODE_EXTRA_CA_CERTS: this.media.caFile } : {}),
    };
  }

  /** Puts a number on WhatsApp (or gives it a LID) while the server runs. */
  register(entry) {
    return this.directory.addContact(entry);
  }

  async listen() {
    if (this.mediaOptions) this.media = await new MediaHost(this.mediaOptions === true ? {} : this.mediaOptions).start();
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/ws/chat' });
    await once(this.wss, 'listening');
    this.port = this.wss.address().port;
    this.url = `ws://127.0.0.1:${this.port}/ws/chat`;
    this.wss.on('connection', (ws) => {
      const connection = new FakeConnection({
        ws,
        noise: this.noise,
        onHandshake: (conn, login) => handleHandshake(this, conn, login),
        onNode: (conn, node) => handleClientNode(this, conn, node),
        onError: (conn, error) => {
          this.errors.push({ connection: conn.id, error });
          this.emit('server-error', error);
        },
        onClose: (conn) => {
          this.connections.delete(conn);
          this.emit('connection-closed', conn);
        },
      });
      this.connections.add(connection);
      this.emit('connection', connection);
    });
  }

  /** Closes every client socket and the listener, and gives Baileys its real root back. */
  async stop() {
    for (const connection of this.connections) connection.dispose();
    await new Promise((resolve) => this.wss.close(resolve));
    await this.media?.stop();
    this.restoreRoot();
  }

  // ─── waiting helpers ────────────────────────────────────────────────────────────────────────────

  /** A node the client sent (already received or future) that satisfies `predicate`. */
  waitForNode(predicate, options = {}) {
    return waitFor(this, 'client-node', (entry) => predicate(entry.node, entry), {
      backlog: options.includePast === false ? [] : this.received,
      description: 'matching client node',
      ...options,
    }).then((entry) => entry.node);
  }

  /** The next QR stage: a registration connection whose `pair-device` the client acknowledged. */
  waitForQr(options = {}) {
    return waitFor(this, 'qr-stage', (stage) => !options.after || stage.at > options.after, {
      description: 'QR stage (pair-device acknowledged)',
      ...options,
    });
  }

  /** The next login that reached `success` (optionally of a given device jid). */
  waitForLogin({ device, ...options } = {}) {
    return waitFor(this, 'login', (login) => !device || login.device.jid === device, { description: 'login', ...options });
  }

  waitForPairingCodeRequest(options = {}) {
    return waitFor(this, 'pairing-code-request', () => true, {
      backlog: options.includePast ? this.pairingCodeRequests : [],
      description: 'pairing code request',
      ...options,
    });
  }

  /**
   * Subscribes to messages the client sent, as each recipient device decrypted them.
   * @returns {() => void} unsubscribe
   */
  onClientMessage(listener) {
    this.on('client-message', listener);
    return () => this.off('client-message', listener);
  }

  /**
   * The next message decrypted by a contact (own-device copies excluded unless `recipient` asks for them).
   * `since`: index into `wa.decrypted` from which already decrypted records count (default: only new ones).
   */
  nextDecryptedMessage({ recipient, id, timeoutMs = DEFAULT_WAIT_MS, since = this.decrypted.length } = {}) {
    const matches = (record) =>
      (id === undefined || record.id === id) &&
      (recipient ? record.recipient === recipient || parseJid(record.recipient).user === parseJid(recipient).user : !record.toOwnDevice);
    return waitFor(this, 'client-message', matches, {
      backlog: this.decrypted.slice(since),
      timeoutMs,
      description: `decrypted message${id ? ` ${id}` : ''}`,
    });
  }

  // ─── pairing ────────────────────────────────────────────────────────────────────────────────────

  /**
   * The phone scans the QR code the client shows (the string of Baileys' `connection.update` `qr`):
   * sends `pair-success`, checks the client's countersignature, then ends the stream with 515 as WhatsApp
   * does. The client must reconnect (a new socket) to log in.
   * @returns the linked device record
   */
  scan(qr, options = {}) {
    return scanQr(this, qr, options);
  }

  /**
   * The phone's user types the pairing code the client got from `requestPairingCode`. Resolves once the
   * device is linked and the stream ended with 515. With a wrong code the phone cannot read the companion's
   * key bundle: this rejects and no pair-success follows.
   */
  enterPairingCode(code, options = {}) {
    return enterPairingCode(this, code, options);
  }

  // ─── what the server sends ──────────────────────────────────────────────────────────────────────

  /** The newest open, logged-in connection (of `deviceJid` when given). */
  liveConnection(deviceJid) {
    const live = [...this.connections].filter((conn) => conn.isOpen && conn.device && (!deviceJid || conn.device.jid === deviceJid));
    const connection = live.at(-1);
    if (!connection) throw new Error('fake WhatsApp: no logged-in client connection');
    return connection;
  }

  /** Sends a raw node to the live client connection. */
  sendNode(node, { connection = this.liveConnection() } = {}) {
    connection.sendNode(node);
  }

  /**
   * A contact (or the account's phone, `from: wa.account.phone`) sends a message to the linked device.
   * @param {string} from phone number or JID of a registered contact
   * @param {object} message a proto.Message object, e.g. { conversation: 'hi' }
   * @param {object} [options]
   * @param {string} [options.id] message id (random by default)
   * @param {'pn'|'lid'} [options.addressing='pn'] `from` as phone JID (with `sender_lid`) or as LID (with `sender_pn`)
   * @param {boolean} [options.offline] mark as an offline (queued while disconnected) delivery
   * @param {object} [options.attrs] extra stanza attributes
   * @returns {Promise<{id: string, node: object}>} the stanza sent
   */
  sendMessage(from, message, options = {}) {
    return sendMessage(this, from, message, options);
  }

  sendText(from, text, options = {}) {
    return this.sendMessage(from, { conversation: text }, options);
  }

  /**
   * A contact sends media: encrypted as WhatsApp does, stored on the media host and referenced by a plain
   * HTTP `url` (no `directPath`), so Baileys downloads it from loopback without TLS.
   * @param {string} from
   * @param {object} media
   * @param {'image'|'video'|'audio'|'document'|'sticker'} media.type
   * @param {Buffer} media.bytes
   * @param {string} [media.mimetype]
   * @param {boolean} [media.missing] reference a file the host does not have (downloads get 404)
   * @param {object} [media.fields] extra fields of the media message (caption, fileName, ptt, seconds, …)
   * @param {string} [media.field] the message field when several share `type` (`ptvMessage`: a round video note)
   */
  sendMedia(from, media, options = {}) {
    return sendMedia(this, from, media, options);
  }

  /** The encrypted `message` stanza a contact's phone sends to `device` (a linked companion record). */
  buildMessageNode(from, message, options = {}) {
    return buildMessageNode(this, from, message, options);
  }

  /**
   * A receipt for a message the client sent: delivery (no type), `read`, `played`, or `retry`
   * (the recipient could not decrypt and asks for a resend; Baileys then looks the message up).
   * @param {object} options
   * @param {string} options.from the recipient's phone or JID
   * @param {string|string[]} options.id message id(s)
   * @param {string} [options.type]
   * @param {number} [options.count=1] retry count for `retry`
   * @param {boolean} [options.keys] include the recipient's key bundle in a `retry` (default: when count > 1)
   */
  sendReceipt(options) {
    return sendReceipt(this, options);
  }

  sendRetryReceipt(from, id, options = {}) {
    return this.sendReceipt({ from, id, type: 'retry', ...options });
  }

  /** A contact calls (`status: 'offer'`, `video`) or the call ends (`terminate`, `timeout`, `reject`, `accept`). */
  sendCall(options) {
    return sendCall(this, options);
  }

  /** A contact's presence (`type: 'available'|'unavailable'`, `last`: last seen in unix seconds). */
  sendPresence(options) {
    sendPresence(this, options);
  }

  /** A contact types (`state: 'composing'`), records a voice note (`'recording'`) or stops (`'paused'`). */
  sendChatState(options) {
    sendChatState(this, options);
  }

  /**
   * The next client `message` stanza satisfying `match` (default: any) gets an error ack with `code`
   * (463: reach-out timelock / missing privacy token, 479, …) and reaches nobody.
   * @param {number} code
   * @param {{to?: string, once?: boolean}} [options] `to`: only sends to this phone/JID
   */
  failSendsWith(code, { to, once = true } = {}) {
    const user = to ? parseJid(to.includes('@') ? to : `${to}@${SERVER_JID}`).user : null;
    this.ackErrors.push({ code, once, match: (stanza) => !user || parseJid(stanza.attrs.to).user === user });
  }

  /** The next login(s) end in `<failure reason=code …attrs>` instead of `success`. */
  failLoginsWith(code, { attrs = {}, once = true } = {}) {
    this.loginFailures.push({ code, attrs, once });
  }

  /**
   * Ends the live connection the way WhatsApp ends it with `code`:
   * 515/503/500/408/401 → `<stream:error code>` (401 with `<conflict type="device_removed"/>`, and the device
   * is unlinked); 440 → `<stream:error><conflict type="replaced"/>`; 428 → the socket just closes;
   * 402/403/405/406/409/411/419 → `<failure reason=code>`. `attrs` are added to the failure/stream error.
   */
  closeWith(code, options = {}) {
    closeWith(this, code, options);
  }

  /** Stops answering anything (pings included), as a dead network does: Baileys ends with 408 on its own. */
  goSilent() {
    this.silent = true;
  }

  /**
   * Messages delivered as an offline batch: sent with `offline="1"` right after the next `success` (or now,
   * on the live connection, when `now` is set), followed by `<ib><offline count=N/></ib>`.
   * @param {Array<{from: string, text?: string, message?: object, id?: string}>} items
   */
  async queueOffline(items, { now = false } = {}) {
    this.offlineQueue.push(...items);
    if (now) await flushOffline(this, this.liveConnection());
  }

  /**
   * The phone syncs chat history to the live linked device (inline payload): `RECENT` chats, `PUSH_NAME`s, ….
   * @param {{ syncType?: 'INITIAL_BOOTSTRAP'|'RECENT'|'PUSH_NAME'|'ON_DEMAND', conversations?: object[], pushnames?: Array<{id: string, pushname: string}> }} options
   */
  sendHistorySync(options = {}) {
    return sendHistorySync(this, options);
  }

  /** The answer to Baileys' reach-out timelock query (`fetchAccountReachoutTimelock`). */
  // ─── groups (fake-wa/groups.js) ─────────────────────────────────────────────────────────────────

  addGroup(options = {}) {
    return addGroup(this, options);
  }

  group(jid) {
    const group = this.groups.get(jid);
    if (!group) throw new Error(`fake WhatsApp: no group ${jid}`);
    return group;
  }

  /** A member change made by `author` (a contact's phone) on the phone: applied, then notified to the client. */
  changeGroupParticipants(jid, { action, phones, author }) {
    const group = this.group(jid);
    for (const phone of phones) {
      if (action === 'add') group.members.set(phone, { phone, admin: null });
      else if (action === 'remove') group.members.delete(phone);
      else if (group.members.has(phone)) group.members.get(phone).admin = action === 'promote' ? 'admin' : null;
    }
    return notifyGroup(this, group, participantsChange(this, group, action, phones), { author });
  }

  /** A subject change made by `author` on their phone. */
  changeGroupSubject(jid, { subject, author }) {
    const group = this.group(jid);
    group.subject = subject;
    return notifyGroup(this, group, { tag: 'subject', attrs: { subject, s_t: String(Math.floor(Date.now() / 1000)) } }, { author });
  }

  /** Any `w:gp2` child node (`announcement`, `locked`, `description`, …) from `author`. */
  notifyGroup(jid, change, { author } = {}) {
    return notifyGroup(this, this.group(jid), change, { author });
  }

  setReachoutTimelock({ isActive = true, enforcementEnds, enforcementType = 'DEFAULT' } = {}) {
    this.mexAnswers.set('23983697327930364', {
      xwa2_fetch_account_reachout_timelock: {
        is_active: isActive,
        time_enforcement_ends: enforcementEnds ? String(Math.floor(new Date(enforcementEnds).getTime() / 1000)) : '0',
        enforcement_type: enforcementType,
      },
    });
  }
}
