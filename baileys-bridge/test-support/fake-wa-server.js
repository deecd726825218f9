// A fake WhatsApp server on loopback that the real Baileys `makeWASocket` connects to
// (`waWebSocketUrl: wa.url`). It speaks the real wire protocol: Noise XX with a test certificate, binary
// nodes, QR and pairing-code linking, the 515 restart and login, the IQs Baileys sends after login, and
// end-to-end encrypted messages with contacts played by libsignal parties. See fake-wa/README.md.

import { EventEmitter, once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import { proto } from 'baileys';
import { createTestCertificateAuthority, trustTestRoot } from './fake-wa/cert.js';
import { FakeConnection } from './fake-wa/connection.js';
import { decryptMedia, encryptMedia, MediaHost, MEDIA_FIELDS } from './fake-wa/media.js';
import { decodeBigEndian, encodeBigEndian, generateKeyPair } from './fake-wa/crypto.js';
import { Directory, parseJid, SERVER_JID } from './fake-wa/directory.js';
import { child, childBytes, children, describe, bytes } from './fake-wa/nodes.js';
import { acceptPairingCode, createSignedDeviceIdentity, finishPairingCode, parseQr, verifyDeviceSignature } from './fake-wa/pairing.js';
import { randomMessageId } from './fake-wa/signal-party.js';

export { parseJid } from './fake-wa/directory.js';
/** Absolute path of the `--import` preload that makes a child process trust a FakeWa root (see childEnv). */
export const TRUST_TEST_ROOT_PRELOAD = fileURLToPath(new URL('./fake-wa/trust-test-root.js', import.meta.url));
export { describe as describeNode } from './fake-wa/nodes.js';

const DEFAULT_WAIT_MS = 5000;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const newId = () => randomBytes(8).toString('hex').toUpperCase();

/** Close codes and how the server produces each, as WhatsApp does. */
const STREAM_ERROR_CODES = new Set([401, 408, 428, 500, 503, 515]);
const FAILURE_CODES = new Set([402, 403, 405, 406, 409, 411, 419]);

/**
 * @param {object} [options]
 * @param {Array<string|{phone: string, lid?: string|false, name?: string}>} [options.registered] numbers on WhatsApp
 * @param {{phone?: string, lid?: string, pushName?: string}} [options.account] the account the client links to
 * @param {boolean} [options.trustRoot=true] make this process's Baileys trust the test certificate
 * @param {boolean} [options.historySync=true] the phone sends an (empty, inline) initial history sync after
 *   a device's first login, as the real phone does; without it Baileys holds events back for 20 s
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
    /** Every message the contacts' parties decrypted (see #onClientMessage). */
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
        onHandshake: (conn, login) => this.#onHandshake(conn, login),
        onNode: (conn, node) => this.#onNode(conn, node),
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

  /** Resolves with the first `event` payload satisfying `predicate` (including ones already in `backlog`). */
  #waitFor(event, predicate, { timeoutMs = DEFAULT_WAIT_MS, backlog = [], description = event } = {}) {
    const found = backlog.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onEvent = (value) => {
        if (!predicate(value)) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake WhatsApp: no ${description} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off(event, onEvent);
      };
      this.on(event, onEvent);
    });
  }

  /** A node the client sent (already received or future) that satisfies `predicate`. */
  waitForNode(predicate, options = {}) {
    return this.#waitFor('client-node', (entry) => predicate(entry.node, entry), {
      backlog: options.includePast === false ? [] : this.received,
      description: 'matching client node',
      ...options,
    }).then((entry) => entry.node);
  }

  /** The next QR stage: a registration connection whose `pair-device` the client acknowledged. */
  waitForQr(options = {}) {
    return this.#waitFor('qr-stage', (stage) => !options.after || stage.at > options.after, {
      description: 'QR stage (pair-device acknowledged)',
      ...options,
    });
  }

  /** The next login that reached `success` (optionally of a given device jid). */
  waitForLogin({ device, ...options } = {}) {
    return this.#waitFor('login', (login) => !device || login.device.jid === device, { description: 'login', ...options });
  }

  waitForPairingCodeRequest(options = {}) {
    return this.#waitFor('pairing-code-request', () => true, {
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
    return this.#waitFor('client-message', matches, {
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
  async scan(qr, { timeoutMs = DEFAULT_WAIT_MS } = {}) {
    const { ref, noiseKey, identityKey, advSecret, platform } = parseQr(qr);
    const connection = [...this.connections].find((conn) => conn.registration?.refs.includes(ref) && conn.isOpen);
    if (!connection) throw new Error(`fake WhatsApp: no open connection shows QR ref ${ref}`);
    const registration = connection.registration;
    if (!noiseKey.equals(connection.clientStatic)) throw new Error('QR noise key differs from the connection noise key');
    if (!identityKey.equals(registration.identityKey)) throw new Error('QR identity key differs from the registration');
    return this.#pair(connection, { advSecret, platform }, timeoutMs);
  }

  /**
   * The phone's user types the pairing code the client got from `requestPairingCode`. Resolves once the
   * device is linked and the stream ended with 515. With a wrong code the phone cannot read the companion's
   * key bundle: this rejects and no pair-success follows.
   */
  async enterPairingCode(code, { timeoutMs = DEFAULT_WAIT_MS } = {}) {
    // requestPairingCode does not wait for the server's answer: its request may still be on the wire.
    const request = this.pairingCodeRequests.at(-1) ?? (await this.waitForPairingCodeRequest({ timeoutMs }));
    if (!request.connection.isOpen) throw new Error('fake WhatsApp: the connection that asked for the code is closed');
    if (request.foreignNumber) {
      throw new Error(`fake WhatsApp: the code was requested for ${request.phone}, not for the account's phone ${this.account.phone}`);
    }
    const { companionEphemeral, primaryEphemeral, wrappedPrimaryEphemeral } = acceptPairingCode({
      code,
      wrappedCompanionEphemeral: request.wrappedCompanionEphemeral,
    });
    const finished = new Promise((resolve, reject) => {
      request.onFinish = (finish) => {
        try {
          resolve(
            finishPairingCode({
              wrappedKeyBundle: finish.wrappedKeyBundle,
              primaryEphemeral,
              companionEphemeral,
              accountIdentity: this.account.phoneParty.identity,
              companionIdentityKey: request.connection.registration.identityKey,
            }),
          );
        } catch (error) {
          reject(error);
        }
      };
    });
    request.connection.sendNode({
      tag: 'notification',
      attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: newId(), t: String(nowSeconds()) },
      content: [
        {
          tag: 'link_code_companion_reg',
          attrs: {},
          content: [
            { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(request.ref) },
            { tag: 'primary_identity_pub', attrs: {}, content: Buffer.from(this.account.phoneParty.identity.pubKey).subarray(1) },
            { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimaryEphemeral },
          ],
        },
      ],
    });
    const advSecret = await withTimeout(finished, timeoutMs, 'companion_finish after the pairing code');
    return this.#pair(request.connection, { advSecret, platform: 'pairing-code' }, timeoutMs);
  }

  async #pair(connection, { advSecret, platform }, timeoutMs) {
    const registration = connection.registration;
    const record = this.directory.linkDevice({
      noiseKey: connection.clientStatic,
      identityKey: registration.identityKey,
      registrationId: registration.registrationId,
      signedPreKey: registration.signedPreKey,
      advSecret,
      platform,
    });
    const identity = createSignedDeviceIdentity({
      accountIdentity: this.account.phoneParty.identity,
      companionIdentityKey: registration.identityKey,
      advSecret,
      keyIndex: record.keyIndex,
    });
    const reply = await connection.query(
      {
        tag: 'iq',
        attrs: { from: SERVER_JID, type: 'set', t: String(nowSeconds()) },
        content: [
          {
            tag: 'pair-success',
            attrs: {},
            content: [
              { tag: 'device-identity', attrs: { 'key-index': String(record.keyIndex) }, content: identity.content },
              { tag: 'platform', attrs: { name: 'android' } },
              { tag: 'device', attrs: { jid: record.jid, lid: record.lidJid } },
            ],
          },
        ],
      },
      { timeoutMs },
    );
    const replyIdentity = childBytes(child(reply, 'pair-device-sign'), 'device-identity');
    if (reply.attrs.type !== 'result' || !replyIdentity) {
      this.directory.removeDevice(record.jid);
      throw new Error(`client refused pair-success: ${describe(reply)}`);
    }
    if (
      !verifyDeviceSignature({
        replyIdentity,
        details: identity.details,
        companionIdentityKey: registration.identityKey,
        accountSignatureKey: identity.accountSignatureKey,
      })
    ) {
      this.directory.removeDevice(record.jid);
      throw new Error('client countersignature of the device identity does not verify');
    }
    record.confirmed = true;
    // WhatsApp restarts the stream so the client logs in as the new device.
    this.#streamError(connection, { code: 515 });
    this.emit('paired', record);
    return record;
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
  async sendMessage(from, message, options = {}) {
    const connection = options.connection ?? this.liveConnection();
    const node = await this.buildMessageNode(from, message, { ...options, device: connection.device });
    connection.sendNode(node);
    return { id: node.attrs.id, node };
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
  async sendMedia(from, { type, field: wanted, bytes, mimetype = 'application/octet-stream', missing = false, fields = {} }, options = {}) {
    if (!this.media) throw new Error('fake WhatsApp: start it with { media: true } to send media');
    const field = wanted && MEDIA_FIELDS[wanted] === type ? wanted : Object.keys(MEDIA_FIELDS).find((name) => MEDIA_FIELDS[name] === type);
    if (!field) throw new Error(`fake WhatsApp: unknown media type ${type}`);
    const encrypted = encryptMedia(bytes, type);
    const { url } = missing ? { url: `${this.media.httpBase}/v/t62.7114-24/missing-${newId()}.enc` } : this.media.put(encrypted.file);
    const content = {
      url,
      mimetype,
      mediaKey: encrypted.mediaKey,
      fileSha256: encrypted.fileSha256,
      fileEncSha256: encrypted.fileEncSha256,
      fileLength: encrypted.fileLength,
      mediaKeyTimestamp: nowSeconds(),
      ...fields,
    };
    return this.sendMessage(from, { [field]: content }, { type: 'media', ...options });
  }

  /** The encrypted `message` stanza a contact's phone sends to `device` (a linked companion record). */
  async buildMessageNode(from, message, { id = randomMessageId(), addressing = 'pn', offline, attrs = {}, device, type = 'text' } = {}) {
    const target = device ?? this.liveConnection().device;
    const fromAccount = this.directory.isAccountUser(from.includes('@') ? from : `${from}@${SERVER_JID}`);
    const sender = fromAccount ? null : this.directory.contact(from);
    if (!fromAccount && !sender) throw new Error(`fake WhatsApp: ${from} is not a registered contact`);
    const party = fromAccount ? this.account.phoneParty : sender.party;
    if (!party.hasSession(target.jid)) {
      await party.startSession(target.jid, this.directory.takeCompanionBundle(target));
    }
    const { type: encType, ciphertext } = await party.encrypt(target.jid, message);
    const stanzaAttrs = { id, t: String(nowSeconds()), type };
    if (fromAccount) {
      stanzaAttrs.from = this.account.jid;
    } else if (addressing === 'lid' && sender.lidJid) {
      Object.assign(stanzaAttrs, { from: sender.lidJid, sender_pn: sender.jid, addressing_mode: 'lid' });
    } else {
      stanzaAttrs.from = sender.jid;
      if (sender.lidJid) stanzaAttrs.sender_lid = sender.lidJid;
    }
    if (!fromAccount) stanzaAttrs.notify = sender.name;
    if (offline) stanzaAttrs.offline = '1';
    Object.assign(stanzaAttrs, attrs);
    return {
      tag: 'message',
      attrs: stanzaAttrs,
      content: [{ tag: 'enc', attrs: { v: '2', type: encType }, content: ciphertext }],
    };
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
  sendReceipt({ from, id, type, count = 1, keys, connection = this.liveConnection() }) {
    const ids = Array.isArray(id) ? id : [id];
    const contact = this.directory.contact(from);
    const fromJid = contact ? contact.jid : from;
    const attrs = { from: fromJid, id: ids[0], t: String(nowSeconds()) };
    if (type) attrs.type = type;
    const content = [];
    if (type === 'retry') {
      const party = contact?.party;
      content.push({ tag: 'retry', attrs: { count: String(count), id: ids[0], t: attrs.t, v: '1' } });
      content.push({ tag: 'registration', attrs: {}, content: encodeBigEndian(party?.registrationId ?? 0, 4) });
      // From the second attempt on, a device sends a fresh key bundle so the sender can start a new session.
      if (party && (keys ?? count > 1)) {
        const bundle = party.keyBundleNode(fromJid).content.filter((node) => node.tag !== 'registration');
        content.push({ tag: 'keys', attrs: {}, content: bundle });
      }    } else if (ids.length > 1) {
      content.push({ tag: 'list', attrs: {}, content: ids.slice(1).map((itemId) => ({ tag: 'item', attrs: { id: itemId } })) });
    }
    connection.sendNode({ tag: 'receipt', attrs, content: content.length ? content : undefined });
  }

  sendRetryReceipt(from, id, options = {}) {
    return this.sendReceipt({ from, id, type: 'retry', ...options });
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
  closeWith(code, { attrs = {}, connection = this.liveConnection() } = {}) {
    if (code === 428) {
      connection.close();
    } else if (code === 440) {
      this.#streamError(connection, { attrs, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] });
    } else if (code === 401) {
      if (connection.device) this.directory.removeDevice(connection.device.jid);
      this.#streamError(connection, { code, attrs, content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }] });
    } else if (FAILURE_CODES.has(code)) {
      this.#failure(connection, code, attrs);
    } else if (STREAM_ERROR_CODES.has(code) || code >= 400) {
      this.#streamError(connection, { code, attrs });
    } else {
      throw new Error(`fake WhatsApp: no close behaviour for code ${code}`);
    }
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
    if (now) await this.#flushOffline(this.liveConnection());
  }

  /** The answer to Baileys' reach-out timelock query (`fetchAccountReachoutTimelock`). */
  setReachoutTimelock({ isActive = true, enforcementEnds, enforcementType = 'DEFAULT' } = {}) {
    this.mexAnswers.set('23983697327930364', {
      xwa2_fetch_account_reachout_timelock: {
        is_active: isActive,
        time_enforcement_ends: enforcementEnds ? String(Math.floor(new Date(enforcementEnds).getTime() / 1000)) : '0',
        enforcement_type: enforcementType,
      },
    });
  }

  // ─── handshake and login ────────────────────────────────────────────────────────────────────────

  async #onHandshake(connection, { payload }) {
    if (payload.devicePairingData) {
      const data = payload.devicePairingData;
      connection.registration = {
        registrationId: decodeBigEndian(data.eRegid),
        identityKey: Buffer.from(data.eIdent),
        signedPreKey: {
          keyId: decodeBigEndian(data.eSkeyId),
          publicKey: Buffer.from(data.eSkeyVal),
          signature: Buffer.from(data.eSkeySig),
        },
        refs: Array.from({ length: this.qrRefs }, () => `2@${randomBytes(24).toString('base64')}`),
        pushName: payload.pushName,
      };
      // Not awaited: the client's answer arrives as a later frame of this same connection.
      connection
        .query({
          tag: 'iq',
          attrs: { from: SERVER_JID, type: 'set', xmlns: 'md' },
          content: [
            {
              tag: 'pair-device',
              attrs: {},
              content: connection.registration.refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
            },
          ],
        })
        .then((answer) => {
          if (answer.attrs.type === 'result') this.emit('qr-stage', { connection, refs: connection.registration.refs, at: Date.now() });
        })
        .catch((error) => this.errors.push({ connection: connection.id, error }));
      return;
    }

    const username = String(payload.username ?? '');
    const jid = `${username}:${payload.device ?? 0}@${SERVER_JID}`;
    const device = this.directory.deviceFor(jid);
    const failure = this.loginFailures[0];
    if (failure) {
      if (failure.once) this.loginFailures.shift();
      this.#failure(connection, failure.code, failure.attrs);
      return;
    }
    if (!device || !device.confirmed || !device.noiseKey.equals(connection.clientStatic)) {
      // What WhatsApp answers a device it does not know (never linked, unlinked, or half-registered).
      this.#failure(connection, 401, { location: 'fake' });
      return;
    }
    connection.device = device;
    const firstLogin = !device.everLoggedIn;
    device.everLoggedIn = true;
    connection.sendNode({
      tag: 'success',
      attrs: {
        t: String(nowSeconds()),
        lid: device.lidJid,
        props: '1',
        abprops: '1',
        location: 'fake',
        creation: String(nowSeconds()),
      },
    });
    this.emit('login', { connection, device, firstLogin });
    // After the success handler ran on the client side, deliver what waited while it was offline.
    setImmediate(() => {
      this.#flushOffline(connection).catch((error) => this.errors.push({ connection: connection.id, error }));
      if (firstLogin && this.historySync) {
        this.#sendInitialHistorySync(connection).catch((error) => this.errors.push({ connection: connection.id, error }));
      }
    });
  }

  async #flushOffline(connection) {
    const items = this.offlineQueue.splice(0);
    for (const item of items) {
      const message = item.message ?? { conversation: item.text };
      const node = await this.buildMessageNode(item.from, message, { id: item.id, offline: true, device: connection.device, addressing: item.addressing });
      connection.sendNode(node);
    }
    connection.sendNode({ tag: 'ib', attrs: { from: SERVER_JID }, content: [{ tag: 'offline', attrs: { count: String(items.length) } }] });
  }

  /** The phone's initial history sync, inline and empty: lets Baileys leave its "awaiting initial sync" hold. */
  async #sendInitialHistorySync(connection) {
    const history = proto.HistorySync.encode({
      syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
      conversations: [],
      progress: 100,
    }).finish();
    const message = {
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
        historySyncNotification: {
          syncType: proto.HistorySync.HistorySyncType.INITIAL_BOOTSTRAP,
          initialHistBootstrapInlinePayload: deflateSync(history),
          progress: 100,
        },
      },
    };
    const node = await this.buildMessageNode(this.account.phone, message, { device: connection.device, attrs: { category: 'peer' } });
    connection.sendNode(node);
  }

  #failure(connection, code, attrs = {}) {
    connection.sendNode({ tag: 'failure', attrs: { reason: String(code), ...attrs } });
    setTimeout(() => connection.close(), 20);
  }

  #streamError(connection, { code, attrs = {}, content }) {
    const nodeAttrs = { ...attrs };
    if (code !== undefined) nodeAttrs.code = String(code);
    connection.sendNode({ tag: 'stream:error', attrs: nodeAttrs, content });
    setTimeout(() => connection.close(), 20);
  }

  // ─── what the client sends ──────────────────────────────────────────────────────────────────────

  async #onNode(connection, node) {
    const entry = { connection: connection.id, node, at: Date.now() };
    this.received.push(entry);
    this.emit('client-node', entry);
    if (this.silent) return;
    switch (node.tag) {
      case 'iq':
        if (node.attrs.type === 'get' || node.attrs.type === 'set') await this.#onIq(connection, node);
        return;
      case 'message':
        await this.#onClientMessage(connection, node);
        return;
      case 'receipt':
        connection.sendNode({ tag: 'ack', attrs: { class: 'receipt', id: node.attrs.id, from: node.attrs.to ?? SERVER_JID } });
        return;
      default:
        // ack, presence, chatstate, ib (unified_session, offline_batch), call: recorded only
        return;
    }
  }

  #result(connection, iq, content) {
    connection.sendNode({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'result', id: iq.attrs.id },
      content,
    });
  }

  #iqError(connection, iq, code, text) {
    connection.sendNode({
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'error', id: iq.attrs.id },
      content: [{ tag: 'error', attrs: { code: String(code), text } }],
    });
  }

  async #onIq(connection, iq) {
    const [first] = children(iq);
    const key = `${iq.attrs.xmlns}:${first?.tag ?? ''}`;
    const device = connection.device;
    switch (key) {
      case 'w:p:ping':
      case 'passive:active':
      case 'passive:passive':
      case 'w:stats:add':
      case 'encrypt:rotate':
      case 'urn:xmpp:ping:ping':
        return this.#result(connection, iq);
      case 'encrypt:count':
        return this.#result(connection, iq, [{ tag: 'count', attrs: { value: String(device?.preKeys.size ?? 0) } }]);
      case 'encrypt:registration': {
        if (device) {
          const list = child(iq, 'list');
          const skey = child(iq, 'skey');
          this.directory.storePreKeys(device, {
            registrationId: decodeBigEndian(childBytes(iq, 'registration')),
            identityKey: childBytes(iq, 'identity'),
            signedPreKey: skey && {
              keyId: decodeBigEndian(childBytes(skey, 'id')),
              publicKey: childBytes(skey, 'value'),
              signature: childBytes(skey, 'signature'),
            },
            preKeys: children(list, 'key').map((key) => ({ keyId: decodeBigEndian(childBytes(key, 'id')), publicKey: childBytes(key, 'value') })),
          });
        }
        return this.#result(connection, iq);
      }
      case 'encrypt:digest':
        return this.#result(connection, iq, [{ tag: 'digest', attrs: {} }]);
      case 'encrypt:key':
        return this.#result(connection, iq, [{ tag: 'list', attrs: {}, content: children(first, 'user').map((user) => this.#keyBundle(user.attrs.jid)) }]);
      case 'usync:usync':
        return this.#result(connection, iq, [this.#usync(first)]);
      case 'abt:props':
        return this.#result(connection, iq, [
          {
            tag: 'props',
            attrs: { protocol: '1', hash: 'fake' },
            content: Object.entries(this.props).map(([name, value]) => ({ tag: 'prop', attrs: { name, value } })),
          },
        ]);
      case 'blocklist:':
        return this.#result(connection, iq, [{ tag: 'list', attrs: {} }]);
      case 'privacy:privacy':
        if (iq.attrs.type === 'get') {
          const settings = { readreceipts: 'all', last: 'all', online: 'all', profile: 'all', status: 'all', groupadd: 'all', calladd: 'all' };
          return this.#result(connection, iq, [
            { tag: 'privacy', attrs: {}, content: Object.entries(settings).map(([name, value]) => ({ tag: 'category', attrs: { name, value } })) },
          ]);
        }
        return this.#result(connection, iq);
      case 'privacy:tokens':
        return this.#result(connection, iq, [{ tag: 'tokens', attrs: {} }]);
      case 'w:m:media_conn':
        return this.#result(connection, iq, [
          {
            tag: 'media_conn',
            attrs: { auth: 'fake-media-auth', ttl: '300' },
            // Without a media host, a name that cannot resolve: uploads fail fast instead of leaving loopback.
            content: [{ tag: 'host', attrs: { hostname: this.media?.host ?? 'media.fake-wa.invalid' } }],
          },
        ]);
      case 'w:sync:app:state:sync':
        // Empty collections at version 0: there is no app state to restore.
        return this.#result(connection, iq, [
          {
            tag: 'sync',
            attrs: {},
            content: children(first, 'collection').map((collection) => ({
              tag: 'collection',
              attrs: { name: collection.attrs.name, version: collection.attrs.version ?? '0' },
            })),
          },
        ]);
      case 'w:mex:query': {
        const data = this.mexAnswers.get(first.attrs.query_id);
        if (!data) break;
        return this.#result(connection, iq, [{ tag: 'result', attrs: {}, content: Buffer.from(JSON.stringify({ data })) }]);
      }
      case 'md:link_code_companion_reg':
        return this.#onLinkCode(connection, iq, first);
      case 'md:remove-companion-device':
        this.directory.removeDevice(first.attrs.jid ?? device?.jid ?? '');
        return this.#result(connection, iq);
      default:
        break;
    }
    this.unhandled.push(iq);
    this.emit('unhandled-iq', iq);
    this.#iqError(connection, iq, 501, 'feature-not-implemented');
  }

  #onLinkCode(connection, iq, node) {
    const stage = node.attrs.stage;
    if (stage === 'companion_hello') {
      if (!connection.registration) return this.#iqError(connection, iq, 400, 'bad-request');
      const request = {
        connection,
        phone: parseJid(node.attrs.jid).user,
        ref: `link-${randomBytes(12).toString('hex')}`,
        wrappedCompanionEphemeral: childBytes(node, 'link_code_pairing_wrapped_companion_ephemeral_pub'),
        companionNoiseKey: childBytes(node, 'companion_server_auth_key_pub'),
        at: Date.now(),
      };
      if (request.phone !== this.account.phone) {
        // WhatsApp only sends the code to the phone of that number; no one can ever enter it here.
        request.foreignNumber = true;
      }
      this.pairingCodeRequests.push(request);
      this.#result(connection, iq, [
        { tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(request.ref) }] },
      ]);
      this.emit('pairing-code-request', request);
      return;
    }
    if (stage === 'companion_finish') {
      const request = this.pairingCodeRequests.find((candidate) => candidate.ref === bytes(child(node, 'link_code_pairing_ref'))?.toString());
      this.#result(connection, iq);
      request?.onFinish?.({ wrappedKeyBundle: childBytes(node, 'link_code_pairing_wrapped_key_bundle') });
      return;
    }
    this.#iqError(connection, iq, 400, 'bad-request');
  }

  /** Downloads and decrypts the media of a message the client sent, as its recipient would. */
  #attachMedia(record, content) {
    const field = Object.keys(MEDIA_FIELDS).find((name) => content[name]);
    if (!field) return;
    const media = content[field];
    record.mediaType = MEDIA_FIELDS[field];
    if (!this.media) {
      record.mediaError = new Error('no media host');
      return;
    }
    const file = this.media.get(media.directPath || media.url || '');
    if (!file) {
      record.mediaError = new Error(this.media.keepUploads ? `no uploaded file at ${media.directPath}` : 'uploads are not kept');
      return;
    }
    try {
      record.media = decryptMedia(file, media.mediaKey, record.mediaType);
    } catch (error) {
      record.mediaError = error;
    }
  }

  /** One `<user>` of an `encrypt` key fetch: a contact's or the phone's bundle, or a companion's. */
  #keyBundle(jid) {
    const party = this.directory.partyFor(jid);
    if (party) return party.keyBundleNode(jid);
    const companion = this.directory.deviceFor(jid);
    if (companion) return this.directory.companionBundleNode(companion, jid);
    return { tag: 'user', attrs: { jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] };
  }

  /** Answers the `contact`, `devices` and `lid` protocols of a usync query; others get nothing. */
  #usync(usync) {
    const query = child(usync, 'query');
    const protocols = new Set(children(query).map((protocol) => protocol.tag));
    const users = children(child(usync, 'list'), 'user').map((user) => {
      const phoneQuery = bytes(child(user, 'contact'))?.toString();
      const jid = user.attrs.jid ?? `${(phoneQuery ?? '').replace(/^\+/, '')}@${SERVER_JID}`;
      const isAccount = this.directory.isAccountUser(jid);
      const contact = isAccount ? null : this.directory.contact(jid);
      const content = [];
      if (protocols.has('contact')) content.push({ tag: 'contact', attrs: { type: isAccount || contact ? 'in' : 'out' } });
      if (protocols.has('devices')) {
        const deviceList = [];
        if (isAccount) {
          deviceList.push({ tag: 'device', attrs: { id: '0' } });
          for (const record of this.directory.devices.values()) {
            if (record.confirmed) deviceList.push({ tag: 'device', attrs: { id: String(record.device), 'key-index': String(record.keyIndex) } });
          }
        } else if (contact) {
          deviceList.push({ tag: 'device', attrs: { id: '0' } });
        }
        content.push({
          tag: 'devices',
          attrs: {},
          content: [
            { tag: 'device-list', attrs: {}, content: deviceList },
            ...(deviceList.length ? [{ tag: 'key-index-list', attrs: { ts: String(nowSeconds()) } }] : []),
          ],
        });
      }
      if (protocols.has('lid')) {
        const lid = isAccount ? this.account.lidJid : contact?.lidJid;
        if (lid) content.push({ tag: 'lid', attrs: { val: lid } });
      }
      // A phone query is answered with the JID WhatsApp knows the number by.
      return { tag: 'user', attrs: { jid: isAccount ? this.account.jid : (contact?.jid ?? jid) }, content };
    });
    return {
      tag: 'usync',
      attrs: { sid: usync.attrs.sid ?? newId(), index: '0', last: 'true', mode: usync.attrs.mode ?? 'query', context: usync.attrs.context ?? 'interactive' },
      content: [
        { tag: 'result', attrs: {}, content: [...protocols].map((tag) => ({ tag, attrs: { refresh: '604800' } })) },
        { tag: 'list', attrs: {}, content: users },
      ],
    };
  }

  /**
   * A `message` stanza from the client: acked (or refused with a configured error), then every `enc` for a
   * device the server plays is decrypted by that device's Signal party and recorded in `decrypted`.
   */
  async #onClientMessage(connection, stanza) {
    const { id, to } = stanza.attrs;
    const ackError = this.ackErrors.find((rule) => rule.match(stanza));
    if (ackError) {
      if (ackError.once) this.ackErrors.splice(this.ackErrors.indexOf(ackError), 1);
      connection.sendNode({ tag: 'ack', attrs: { class: 'message', id, from: to, t: String(nowSeconds()), error: String(ackError.code) } });
      this.emit('refused-send', { id, to, code: ackError.code, stanza });
      return;
    }
    connection.sendNode({ tag: 'ack', attrs: { class: 'message', id, from: to, t: String(nowSeconds()) } });

    const targets = [];
    const participants = child(stanza, 'participants');
    if (participants) {
      for (const target of children(participants, 'to')) {
        const enc = child(target, 'enc');
        if (enc) targets.push({ jid: target.attrs.jid, enc });
      }
    }
    // A resend to one device after a retry receipt carries its `enc` directly, addressed to that device.
    for (const enc of children(stanza, 'enc')) targets.push({ jid: to, enc });

    const senderJid = connection.device?.jid;
    for (const { jid, enc } of targets) {
      const party = this.directory.partyFor(jid);
      const record = {
        id,
        to,
        recipient: jid,
        toOwnDevice: this.directory.isAccountUser(jid),
        encType: enc.attrs.type,
        retryCount: enc.attrs.count ? Number(enc.attrs.count) : 0,
        stanza,
        at: Date.now(),
      };
      if (!party) {
        record.undeliverable = true;
        this.emit('undeliverable', record);
        continue;
      }
      try {
        const message = await party.decrypt(senderJid, enc.attrs.type, bytes(enc));
        record.message = message;
        const content = message.deviceSentMessage?.message ?? message;
        record.text = content.conversation ?? content.extendedTextMessage?.text ?? undefined;
        this.#attachMedia(record, content);
      } catch (error) {
        record.decryptError = error;
      }
      this.decrypted.push(record);
      this.emit('client-message', record);
    }
  }
}

function withTimeout(promise, timeoutMs, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`fake WhatsApp: no ${what} within ${timeoutMs} ms`)), timeoutMs);
    }),
  ]);
}
