// One WhatsApp session: its host-backed auth state, its current Baileys socket and the translation of Baileys
// events into protocol events. A session never throws into the process: failures end up as a `connection`
// `close` event of this session only.

import { Buffer } from 'node:buffer';
import { DisconnectReason, initAuthCreds, jidNormalizedUser, makeCacheableSignalKeyStore, proto } from 'baileys';
import { AuthCallError, BridgeError } from './protocol.js';
import { sessionContext } from './context.js';
import { loadHostAuthState } from './auth-state.js';
import { KeyCache } from './key-cache.js';
import { BoundedSet } from './bounded.js';
import { findMedia, downloadWithBaileys } from './media.js';
import { PollVotes } from './message-content.js';
import { toNumber, toWire } from './wire.js';

/** How many 515 restartRequired reconnects in a row we do before reporting the close to the host. */
const MAX_RESTARTS = 3;
const PAIRING_READY_TIMEOUT_MS = 20000;
/** A stuck media download must not hold back every later message of the session (events stay in order). */
const MEDIA_DOWNLOAD_TIMEOUT_MS = 120000;
/** How many ids of messages sent through `send` we remember, to skip downloading our own media again. */
const REMEMBERED_SENT_IDS = 1000;
/** How long a send waits for WhatsApp's ack, which carries its error code when it refuses the message. */
const SEND_ACK_TIMEOUT_MS = 10000;
const REACHOUT_TIMELOCK_TIMEOUT_MS = 5000;
/** WhatsApp's error ack for a message to a contact the account may not reach out to (restricted account). */
const ACCOUNT_RESTRICTED = 463;
/** How many LID ↔ phone pairs we remember as already reported to the host (a repeat costs one extra event). */
const REMEMBERED_MAPPINGS = 5000;

const MEDIA_KINDS = new Set(['image', 'video', 'audio', 'voice', 'document', 'sticker', 'gif']);
const PRESENCE_STATES = new Set(['composing', 'paused', 'available', 'unavailable', 'recording']);

const WRITE_OPS = new Set(['save_creds', 'set_keys', 'clear']);

export const AUTH_STATE_ERROR = { statusCode: 500, name: 'authStateError' };
export const INTERNAL_ERROR = { statusCode: 500, name: 'internalError' };

/** Turns Baileys' lastDisconnect.error into the protocol's close reason. */
export function describeDisconnect(error) {
  const statusCode = error?.output?.statusCode ?? (error ? 500 : DisconnectReason.connectionClosed);
  const reason = {
    statusCode,
    error: error?.message || error?.output?.payload?.error || 'connection closed',
    name: DisconnectReason[statusCode] ?? 'unknown',
  };
  // A login `failure` keeps its attributes there (a 402 temporary ban says how long in `expire`).
  if (error?.data && typeof error.data === 'object' && !Array.isArray(error.data)) reason.data = { ...error.data };
  return reason;
}

export class Session {
  /**
   * @param {object} options
   * @param {string} options.id session id chosen by the host
   * @param {import('./protocol.js').ProtocolChannel} options.channel
   * @param {Function} options.makeSocket Baileys' makeWASocket or a test fake
   * @param {Function} [options.downloadMedia] (message, socket, logger) => Promise<Readable|Buffer>
   * @param {object} options.logger
   * @param {number} [options.maxMediaBytes]
   * @param {import('./media.js').MediaFolder|null} [options.mediaFolder] where media files are exchanged with the host
   * @param {import('./gif.js').GifConverter|null} [options.gifConverter] turns `gif` sends into looping videos
   */
  constructor({
    id,
    channel,
    makeSocket,
    downloadMedia = downloadWithBaileys,
    logger,
    maxMediaBytes = Infinity,
    mediaTimeoutMs = MEDIA_DOWNLOAD_TIMEOUT_MS,
    mediaFolder = null,
    gifConverter = null,
  }) {
    this.gifConverter = gifConverter;
    this.mediaTimeoutMs = mediaTimeoutMs;
    this.mediaFolder = mediaFolder;
    this.id = id;
    this.channel = channel;
    this.makeSocket = makeSocket;
    this.downloadMedia = downloadMedia;
    this.logger = logger.child({ session: id });
    this.maxMediaBytes = maxMediaBytes;
    this.socket = null;
    this.state = 'close';
    this.generation = 0; // bumped for every socket; events of older sockets are ignored
    this.stopped = false;
    this.restarts = 0;
    this.messageQueue = Promise.resolve(); // keeps `message` events in arrival order despite media downloads
    this.reportedMappings = new BoundedSet(REMEMBERED_MAPPINGS);
    this.undecryptableIds = new BoundedSet(REMEMBERED_MAPPINGS); // Baileys may upsert the stub of one message again on a retry
    this.mediaQueue = Promise.resolve(); // downloads run one at a time, after their message was handed over
    this.auth = null;
    this.sentMediaIds = new Set();
    this.pendingAcks = new Map(); // message id → resolve of a send waiting for WhatsApp's ack
    this.refusedSendIds = new Set(); // sends answered with an error: their ERROR status update is not a receipt
    this.keyCache = new KeyCache(); // shared by the sockets of this session, so a 515 restart keeps it warm
    this.pollVotes = new PollVotes((key) => this.#loadSentMessage(key));
  }

  /** Loads the auth state from the host and creates the first socket. */
  async start(params) {
    this.options = {
      webSocketUrl: parseWebSocketUrl(params.webSocketUrl),
      waVersion: params.waVersion,
      browser: params.browser,
      pairingPhone: typeof params.pairingPhone === 'string' && params.pairingPhone ? params.pairingPhone : undefined,
    };
    try {
      this.auth = await loadHostAuthState((op, opParams) => this.#callAuth(op, opParams));
      await this.#forgetAbandonedPairing();
    } catch (error) {
      this.logger.error({ err: error }, 'could not load auth state');
      this.#terminate({ ...AUTH_STATE_ERROR, error: error.message });
      throw new BridgeError('internal', `auth state unavailable: ${error.message}`);
    }
    if (this.stopped) throw new BridgeError('internal', 'session was closed while opening');
    this.#createSocket();
  }

  /** Ends the socket without logging out; the host keeps the auth state. */
  async stop() {
    const socket = this.socket;
    this.#detach();
    await endSocket(socket, this.logger);
  }

  /** Logs the device out on WhatsApp's side (when connected), then asks the host to forget the auth state. */
  async logout() {
    const socket = this.socket;
    let remoteLogout = false;
    if (socket && this.state === 'open') {
      try {
        await socket.logout();
        remoteLogout = true;
      } catch (error) {
        this.logger.warn({ err: error }, 'logout on WhatsApp failed; clearing the local auth state anyway');
      }
    }
    // Report the close ourselves: Baileys emits its own close asynchronously, after we have detached.
    const wasStopped = this.stopped;
    this.#detach();
    await endSocket(socket, this.logger);
    if (!wasStopped) {
      this.#sendConnection({
        state: 'close',
        reason: { statusCode: DisconnectReason.loggedOut, error: 'Intentional Logout', name: 'loggedOut' },
      });
    }
    try {
      await this.channel.callAuth(this.id, 'clear', {});
    } catch (error) {
      throw new BridgeError('internal', `logged out, but the host could not clear the auth state: ${error.message}`);
    }
    return { remoteLogout };
  }

  async requestPairingCode(phone) {
    if (typeof phone !== 'string' || !/^\d{6,20}$/.test(phone)) {
      throw new BridgeError('invalid_params', 'phone must be digits only');
    }
    const socket = this.socket;
    if (!socket) throw new BridgeError('not_connected', 'session has no socket; call open first');
    if (isPaired(this.auth?.state.creds)) throw new BridgeError('invalid_params', 'session is already paired');
    // WhatsApp only accepts the pairing request once the socket reached the QR stage.
    await this.#waitForPairingStage();
    try {
      const code = await socket.requestPairingCode(phone);
      return { code };
    } catch (error) {
      throw new BridgeError('not_connected', `pairing code request failed: ${error.message}`);
    }
  }

  async send(params) {
    const socket = this.#connectedSocket();
    if (typeof params.to !== 'string' || !params.to.includes('@')) {
      throw new BridgeError('invalid_params', 'to must be a JID');
    }
    const gifVideo = params.media?.kind === 'gif' ? await this.#gifAsVideo(params) : undefined;
    const content = buildMessageContent(params, this.mediaFolder, gifVideo);
    const options = params.messageId ? { messageId: params.messageId } : {};
    const ack = params.messageId && this.acksWatched ? this.#expectAck(params.messageId) : undefined;
    let sent;
    try {
      sent = await socket.sendMessage(params.to, content, options);
    } catch (error) {
      ack?.cancel();
      this.logger.warn({ err: error, to: params.to }, 'send failed');
      throw sendFailed(error);
    } finally {
      await gifVideo?.cleanup().catch((error) => this.logger.warn({ err: error, file: gifVideo.path }, 'could not remove a transcoded GIF'));
    }
    if (params.media && sent?.key?.id) this.#rememberSentMedia(sent.key.id);
    await this.#storeSent(sent);
    const acked = await ack?.promise;
    if (acked?.error) throw await this.#refusedSend(socket, sent?.key?.id ?? params.messageId, acked.error);
    return {
      messageId: sent?.key?.id ?? params.messageId,
      timestamp: toNumber(sent?.messageTimestamp) ?? Math.floor(Date.now() / 1000),
    };
  }

  /**
   * The GIF of a `gif` send transcoded to MP4 in the media folder, or undefined when it cannot be (no ffmpeg, a
   * failed or too slow conversion): the GIF then goes as a document, which arrives whole but does not play.
   */
  async #gifAsVideo(params) {
    if (!this.mediaFolder) return undefined; // buildMessageContent refuses the send
    const input = this.mediaFolder.checkOutbound(params.media.path);
    const context = { messageId: params.messageId, to: params.to };
    if (!this.gifConverter?.ffmpegPath) {
      this.logger.warn({ ...context, reason: 'no_ffmpeg' }, 'sending a GIF as a document: no ffmpeg to make it a video');
      return undefined;
    }
    try {
      return await this.gifConverter.convert(input, (suffix) => this.mediaFolder.tempPath(suffix));
    } catch (error) {
      this.logger.warn({ ...context, reason: 'conversion_failed', err: error }, 'sending a GIF as a document: it could not be made a video');
      return undefined;
    }
  }

  /** Asks WhatsApp whether a phone number is registered, and under which JID sends should go. */
  async checkNumber(phone) {
    if (typeof phone !== 'string' || !/^\d{6,20}$/.test(phone)) {
      throw new BridgeError('invalid_params', 'phone must be digits only');
    }
    const socket = this.#connectedSocket();
    let results;
    try {
      results = await socket.onWhatsApp(`${phone}@s.whatsapp.net`);
    } catch (error) {
      throw sendFailed(error);
    }
    const found = (results ?? []).find((result) => result?.exists);
    return found ? { exists: true, jid: found.jid } : { exists: false };
  }

  async presence(params) {
    const socket = this.#connectedSocket();
    if (!PRESENCE_STATES.has(params.state)) {
      throw new BridgeError('invalid_params', `state must be one of ${[...PRESENCE_STATES].join(', ')}`);
    }
    try {
      await socket.sendPresenceUpdate(params.state, params.to || undefined);
    } catch (error) {
      throw new BridgeError('send_failed', error?.message ?? String(error));
    }
    return {};
  }

  /** Whether code started for socket `generation` still belongs to the live socket of this session. */
  isCurrent(generation) {
    return !this.stopped && generation === this.generation;
  }

  /** Reports a failure that escaped our handlers (an uncaught error in this session) and ends the socket. */
  fail(error) {
    this.logger.error({ err: error }, 'session failed; closing it');
    this.#terminate({ ...INTERNAL_ERROR, error: error?.message ?? String(error) });
  }

  get isActive() {
    return this.socket !== null;
  }

  #connectedSocket() {
    if (!this.socket || this.state !== 'open') throw new BridgeError('not_connected', `session is ${this.state}`);
    return this.socket;
  }

  #createSocket() {
    const generation = ++this.generation;
    const { creds, keys } = this.auth.state;
    const baileysLogger = this.logger.child({ class: 'baileys' });
    const config = {
      auth: { creds, keys: makeCacheableSignalKeyStore(keys, baileysLogger, this.keyCache) },
      logger: baileysLogger,
      // A gateway should not keep the phone from getting notifications, nor pull the whole chat history.
      markOnlineOnConnect: false,
      syncFullHistory: false,
      // Resends after a retry receipt: Baileys' own cache is gone after a restart, the host keeps every sent message.
      getMessage: (key) => this.#loadSentMessage(key),
    };
    // A string, so Baileys makes a fresh URL per socket (it appends routing info to the one it gets).
    if (this.options.webSocketUrl) config.waWebSocketUrl = this.options.webSocketUrl;
    if (isWaVersion(this.options.waVersion)) config.version = this.options.waVersion;
    if (isBrowser(this.options.browser)) config.browser = this.options.browser;

    this.pairingStage = deferred();
    this.pairingRequested = false;
    this.state = 'connecting';
    let socket;
    try {
      socket = sessionContext.run({ session: this, generation }, () => this.makeSocket(config));
    } catch (error) {
      this.logger.error({ err: error }, 'could not create socket');
      this.#terminate({ ...INTERNAL_ERROR, error: error.message });
      return;
    }
    this.socket = socket;
    const isCurrent = () => generation === this.generation && !this.stopped;
    this.#watchAcks(socket, isCurrent);
    const on = (event, handler) =>
      socket.ev.on(event, (payload) => {
        if (!isCurrent()) return;
        this.#guard(event, () => handler(payload, socket));
      });

    on('creds.update', () => this.#saveCreds());
    on('connection.update', (update) => this.#onConnectionUpdate(update, socket));
    on('messages.upsert', ({ messages = [], type }) => {
      for (const message of messages) {
        this.messageQueue = this.messageQueue
          .then(() => this.#onUpsert(message, type, socket))
          .catch((error) => this.logger.error({ err: error }, 'could not emit message'));
      }
    });
    on('messages.update', (updates = []) => {
      for (const { key, update } of updates) {
        if (typeof update?.status !== 'number') continue; // edits, reactions… are not receipts
        this.#sendReceipt(key, update.status, key?.participant, toNumber(update.messageTimestamp));
      }
    });
    on('message-receipt.update', (updates = []) => {
      for (const { key, receipt } of updates) {
        const status = receiptStatus(receipt);
        if (status === undefined) continue;
        this.#sendReceipt(key, status.status, receipt.userJid, status.timestamp);
      }
    });
    on('lid-mapping.update', (mapping) => this.#reportMapping(mapping?.lid, mapping?.pn));
    on('messaging-history.set', ({ lidPnMappings = [] } = {}) => {
      for (const mapping of lidPnMappings) this.#reportMapping(mapping?.lid, mapping?.pn);
    });
  }

  #onConnectionUpdate(update, socket) {
    if (update.qr) {
      this.channel.sendEvent(this.id, 'qr', { qr: update.qr });
      this.pairingStage.resolve();
      if (this.options.pairingPhone && !this.pairingRequested && !isPaired(this.auth.state.creds)) {
        this.pairingRequested = true;
        void this.#requestPairingForOpen(socket);
      }
    }
    switch (update.connection) {
      case 'connecting':
        this.state = 'connecting';
        this.#sendConnection({ state: 'connecting' });
        break;
      case 'open':
        this.state = 'open';
        this.restarts = 0;
        this.pairingStage.resolve();
        this.#sendConnection({ state: 'open', me: describeMe(socket.user ?? this.auth.state.creds.me) });
        break;
      case 'close': {
        const reason = describeDisconnect(update.lastDisconnect?.error);
        this.socket = null;
        this.state = 'close';
        this.pairingStage.reject(new BridgeError('not_connected', `connection closed (${reason.name})`));
        if (reason.statusCode === DisconnectReason.restartRequired && this.restarts < MAX_RESTARTS) {
          // WhatsApp closes the stream right after a successful QR scan/pairing and expects a fresh login.
          this.restarts += 1;
          this.logger.info({ restarts: this.restarts }, 'restart required; recreating the socket');
          this.#createSocket();
          return;
        }
        this.#sendConnection({ state: 'close', reason });
        break;
      }
      default:
        break;
    }
  }

  /**
   * `requestPairingCode` stores `creds.me` (a wrong code even sets `registered`) before anything is linked; only a
   * completed pairing sets `creds.account`. WhatsApp refuses the next login of such creds with 401, which would read
   * as "logged out": start over with fresh creds instead, so the user gets a fresh QR or can ask for a new code.
   */
  async #forgetAbandonedPairing() {
    const { creds } = this.auth.state;
    if (!creds.me || creds.account) return;
    this.logger.warn({ me: creds.me.id }, 'pairing was never completed; starting over with fresh credentials');
    await this.#callAuth('clear', {});
    // In place: the auth state's saveCreds serialises this very object.
    for (const key of Object.keys(creds)) delete creds[key];
    Object.assign(creds, initAuthCreds());
    await this.auth.saveCreds();
  }

  async #requestPairingForOpen(socket) {
    try {
      const code = await socket.requestPairingCode(this.options.pairingPhone);
      this.channel.sendEvent(this.id, 'pairing_code', { code, phone: this.options.pairingPhone });
    } catch (error) {
      this.logger.warn({ err: error }, 'pairing code request for open failed');
    }
  }

  async #waitForPairingStage() {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new BridgeError('not_connected', 'socket did not reach the pairing stage in time')),
        PAIRING_READY_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.pairingStage.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Hands one upserted message to the host at once: the message first, its media afterwards as `message_media`,
   * so a slow or failing download never holds back or loses the message itself.
   */
  async #onUpsert(message, upsertType, socket) {
    const key = message?.key;
    if (isIgnoredChat(key?.remoteJid)) return; // status updates and channels: nobody asked us to relay them
    if (message?.messageStubType === proto.WebMessageInfo.StubType.CIPHERTEXT) {
      this.#reportUndecryptable(message);
      return;
    }
    this.#reportKeyMappings(key);
    await this.#resolveSenderLid(key, socket);
    const data = { upsertType, raw: toWire(message) };
    this.pollVotes.remember(message);
    const pollVote = await this.pollVotes.describe(message, socket.user ?? this.auth.state.creds.me);
    if (pollVote) data.pollVote = pollVote;
    const media = findMedia(message?.message);
    if (media && key?.fromMe && this.sentMediaIds.has(key.id)) {
      // Baileys echoes what we sent as an `append` upsert; the host has these bytes already.
      data.mediaSkipped = 'sent_by_bridge';
    } else if (media) {
      data.mediaPending = true;
    }
    this.channel.sendEvent(this.id, 'message', data);
    if (data.mediaPending) {
      this.mediaQueue = this.mediaQueue
        .then(() => this.#emitMedia(message, upsertType, media, socket))
        .catch((error) => this.logger.error({ err: error }, 'could not emit media'));
    }
  }

  async #emitMedia(message, upsertType, media, socket) {
    const generation = this.generation;
    const data = { upsertType, raw: toWire(message) };
    try {
      if (media.fileLength !== undefined && media.fileLength > this.maxMediaBytes) {
        throw new Error(`media of ${media.fileLength} bytes exceeds the limit of ${this.maxMediaBytes} bytes`);
      }
      if (!this.mediaFolder) throw new Error('the bridge has no data folder (WAPBRIDGE_BRIDGE_DATA_DIR) to write media to');
      const folder = this.mediaFolder;
      // The timeout covers the whole transfer (downloadMediaMessage answers a stream before the bytes arrive) and
      // aborts it, so a stuck download leaves no half-written file behind.
      const abort = new AbortController();
      const file = await withTimeout(
        sessionContext.run({ session: this, generation }, async () =>
          folder.writeInbound(await this.downloadMedia(message, socket, this.logger), this.maxMediaBytes, abort.signal),
        ),
        this.mediaTimeoutMs,
        'media download timed out',
      ).finally(() => abort.abort());
      data.media = { ...file, mimetype: media.mimetype ?? 'application/octet-stream' };
      if (media.fileName) data.media.fileName = media.fileName;
    } catch (error) {
      this.logger.warn({ err: error, messageId: message?.key?.id }, 'media download failed');
      data.mediaError = error?.message || String(error);
    }
    // A session closed meanwhile still reports: the host has the message and waits for its media to send the webhook.
    this.channel.sendEvent(this.id, 'message_media', data);
  }

  /** A message Baileys could not decrypt (no session with the sender, a lost key): counted by the host. */
  #reportUndecryptable(message) {
    const key = message.key ?? {};
    const seenKey = `${key.remoteJid}|${key.participant ?? ''}|${key.id}`;
    if (this.undecryptableIds.has(seenKey)) return;
    this.undecryptableIds.add(seenKey);
    const error = message.messageStubParameters?.[0];
    this.logger.warn({ messageId: key.id, remoteJid: key.remoteJid, error }, 'message could not be decrypted');
    this.channel.sendEvent(this.id, 'undecryptable', withoutUndefined({
      id: key.id ?? undefined,
      remoteJid: key.remoteJid ?? undefined,
      participant: key.participant ?? undefined,
      error: typeof error === 'string' ? error : undefined,
    }));
  }

  /**
   * A sender known only by LID: Baileys' own persisted LID map (the `lid-mapping` keys) may know its phone number,
   * learned earlier from another message, a history sync or a usync. Reported before the message, so the host can
   * resolve it.
   */
  async #resolveSenderLid(key, socket) {
    if (!key) return;
    const candidates = [];
    if (!key.fromMe && typeof key.remoteJid === 'string' && isLidJid(key.remoteJid) && !key.remoteJidAlt) candidates.push(key.remoteJid);
    if (typeof key.participant === 'string' && isLidJid(key.participant) && !key.participantAlt) candidates.push(key.participant);
    const store = socket?.signalRepository?.lidMapping;
    if (candidates.length === 0 || typeof store?.getPNForLID !== 'function') return;
    for (const lid of candidates) {
      try {
        const pn = await store.getPNForLID(lid);
        if (typeof pn === 'string') this.#reportMapping(lid, pn);
      } catch (error) {
        this.logger.debug({ err: error, lid }, 'LID lookup failed');
      }
    }
  }

  /** WhatsApp acks every message stanza; a refused one carries `error` (463, 479, …), which Baileys only logs. */
  #watchAcks(socket, isCurrent) {
    // Test doubles without a websocket send no acks: their sends are not held up waiting for one.
    this.acksWatched = typeof socket.ws?.on === 'function';
    if (!this.acksWatched) return;
    socket.ws.on('CB:ack,class:message', (node) => {
      if (!isCurrent()) return;
      const resolve = this.pendingAcks.get(node?.attrs?.id);
      if (resolve) resolve({ error: node.attrs.error });
    });
  }

  #expectAck(id) {
    let timer;
    const promise = new Promise((resolve) => {
      const done = (value) => {
        clearTimeout(timer);
        if (this.pendingAcks.get(id) === done) this.pendingAcks.delete(id);
        resolve(value);
      };
      // No ack in time: the message is on the wire, and is reported sent as before.
      timer = setTimeout(() => done(undefined), SEND_ACK_TIMEOUT_MS);
      this.pendingAcks.set(id, done);
    });
    return { promise, cancel: () => this.pendingAcks.get(id)?.(undefined) };
  }

  async #refusedSend(socket, id, errorCode) {
    const statusCode = Number(errorCode);
    this.refusedSendIds.add(id);
    if (this.refusedSendIds.size > REMEMBERED_SENT_IDS) this.refusedSendIds.delete(this.refusedSendIds.values().next().value);
    if (statusCode !== ACCOUNT_RESTRICTED) {
      return new BridgeError('send_failed', `WhatsApp refused the message (error ${errorCode})`, { statusCode });
    }
    const restriction = await this.#reachoutTimelock(socket);
    this.logger.warn({ messageId: id, restriction }, 'WhatsApp restricted this account from reaching new contacts (463)');
    return new BridgeError('send_failed', 'WhatsApp restricted this account from messaging new contacts (463)', {
      statusCode,
      ...(restriction ? { restriction } : {}),
    });
  }

  /** Until when WhatsApp keeps the account from reaching out (Baileys does not ask by itself on a 463). */
  async #reachoutTimelock(socket) {
    if (typeof socket.fetchAccountReachoutTimelock !== 'function') return undefined;
    try {
      const lock = await withTimeout(socket.fetchAccountReachoutTimelock(), REACHOUT_TIMELOCK_TIMEOUT_MS, 'reach-out timelock query timed out');
      return withoutUndefined({
        active: Boolean(lock?.isActive),
        until: lock?.timeEnforcementEnds instanceof Date ? lock.timeEnforcementEnds.toISOString() : undefined,
        type: lock?.enforcementType,
      });
    } catch (error) {
      this.logger.warn({ err: error }, 'reach-out timelock query failed');
      return undefined;
    }
  }

  /** Hands the message as sent (media keys included) to the host, which keeps it for resends. */
  async #storeSent(sent) {
    if (!sent?.key?.id || !sent.message) return;
    const content = Buffer.from(proto.Message.encode(sent.message).finish()).toString('base64');
    try {
      await this.channel.callAuth(this.id, 'store_message', { id: sent.key.id, remoteJid: sent.key.remoteJid, content });
    } catch (error) {
      // The message is out; only a later resend of it would fail.
      this.logger.warn({ err: error, messageId: sent.key.id }, 'the host could not store the sent message');
    }
  }

  /** Baileys' getMessage: the content the host stored when the message was sent. */
  async #loadSentMessage(key) {
    if (!key?.id) return undefined;
    try {
      const { content } = await this.channel.callAuth(this.id, 'get_message', { id: key.id, remoteJid: key.remoteJid });
      return typeof content === 'string' && content ? proto.Message.decode(Buffer.from(content, 'base64')) : undefined;
    } catch (error) {
      this.logger.warn({ err: error, messageId: key.id }, 'the host could not serve a sent message for a resend');
      return undefined;
    }
  }

  #rememberSentMedia(id) {
    this.sentMediaIds.add(id);
    if (this.sentMediaIds.size > REMEMBERED_SENT_IDS) this.sentMediaIds.delete(this.sentMediaIds.values().next().value);
  }

  #sendReceipt(key, status, participant, timestamp) {
    if (!key?.id) return;
    // A refused send is answered with the refusal (Baileys emits its ERROR status before our ack listener runs).
    if (status === 0 && (this.pendingAcks.has(key.id) || this.refusedSendIds.has(key.id))) return;
    const data = { id: key.id, remoteJid: key.remoteJid, fromMe: Boolean(key.fromMe), status };
    if (participant) data.participant = participant;
    if (timestamp) data.timestamp = timestamp;
    this.channel.sendEvent(this.id, 'receipt', data);
  }

  /** Baileys 7 puts the other addressing of the sender in key.remoteJidAlt (1:1) / key.participantAlt (groups). */
  #reportKeyMappings(key) {
    if (!key) return;
    // For our own 1:1 messages the alt address may be ours, not the chat's, so only trust incoming ones.
    if (!key.fromMe) this.#reportMapping(key.remoteJid, key.remoteJidAlt);
    this.#reportMapping(key.participant, key.participantAlt);
  }

  #reportMapping(first, second) {
    if (typeof first !== 'string' || typeof second !== 'string') return;
    const lidJid = [first, second].find(isLidJid);
    const pnJid = [first, second].find(isPnJid);
    if (!lidJid || !pnJid) return;
    const lid = normalizeJid(lidJid);
    const pn = normalizeJid(pnJid);
    const mappingKey = `${lid}|${pn}`;
    if (this.reportedMappings.has(mappingKey)) return;
    this.reportedMappings.add(mappingKey);
    this.channel.sendEvent(this.id, 'lid_mapping', { lid, pn });
  }

  async #saveCreds() {
    try {
      await this.auth.saveCreds();
    } catch (error) {
      this.logger.error({ err: error }, 'save_creds failed');
    }
  }

  /** Every auth call goes through here so a refused call closes the session as the protocol requires. */
  async #callAuth(op, params) {
    // A stopped session's socket may still flush keys or creds (Baileys ends asynchronously); writing them could
    // overwrite what a newer socket of the same instance stored since.
    if (this.stopped && WRITE_OPS.has(op)) throw new BridgeError('not_connected', `session is closed; ${op} refused`);
    try {
      return await this.channel.callAuth(this.id, op, params);
    } catch (error) {
      if (error instanceof AuthCallError && op !== 'load_creds') {
        this.logger.error({ err: error, op }, 'auth call failed; closing session');
        this.#terminate({ ...AUTH_STATE_ERROR, error: error.message });
      }
      throw error;
    }
  }

  #guard(event, handler) {
    sessionContext.run({ session: this, generation: this.generation }, () => {
      try {
        const result = handler();
        if (result && typeof result.catch === 'function') {
          result.catch((error) => this.#handlerFailed(event, error));
        }
      } catch (error) {
        this.#handlerFailed(event, error);
      }
    });
  }

  #handlerFailed(event, error) {
    this.logger.error({ err: error, event }, 'event handler failed');
    this.fail(error);
  }

  #sendConnection(data) {
    this.channel.sendEvent(this.id, 'connection', data);
  }

  /** Stops listening to the current socket; nothing it emits afterwards reaches the host. */
  #detach() {
    this.stopped = true;
    this.generation += 1;
    this.socket = null;
    this.state = 'close';
    this.pairingStage?.reject(new BridgeError('not_connected', 'session closed'));
  }

  #terminate(reason) {
    if (this.stopped) return;
    const socket = this.socket;
    this.#detach();
    void endSocket(socket, this.logger);
    this.#sendConnection({ state: 'close', reason });
  }
}

async function endSocket(socket, logger) {
  if (!socket) return;
  try {
    await socket.end(undefined);
  } catch (error) {
    logger.warn({ err: error }, 'error while ending socket');
  }
}

/** A failed Baileys call as a `send_failed` error, with Baileys' status code (428 connection closed, 408, …) when it has one. */
function sendFailed(error) {
  const statusCode = error?.output?.statusCode;
  return new BridgeError(
    'send_failed',
    error?.message ?? String(error),
    Number.isInteger(statusCode) ? { statusCode } : undefined,
  );
}

/**
 * Builds the Baileys AnyMessageContent for a `send` request. Media is passed as `{ url: <local path> }`: Baileys
 * streams the file through its encryption into a temp file and uploads that, so no file is ever one Buffer here.
 */
export function buildMessageContent(params, mediaFolder, gifVideo = undefined) {
  const { text, media, caption } = params;
  if (media) {
    if (!MEDIA_KINDS.has(media.kind)) throw new BridgeError('invalid_params', `unknown media kind ${media.kind}`);
    if (!mediaFolder) throw new BridgeError('invalid_params', 'the bridge has no data folder (WAPBRIDGE_BRIDGE_DATA_DIR) to read media from');
    const bytes = { url: mediaFolder.checkOutbound(media.path) };
    const mimetype = media.mimetype || undefined;
    const mediaCaption = caption ?? text ?? undefined;
    switch (media.kind) {
      case 'image':
        return withoutUndefined({ image: bytes, caption: mediaCaption, mimetype });
      case 'video':
        return withoutUndefined({ video: bytes, caption: mediaCaption, mimetype });
      case 'audio':
        return withoutUndefined({ audio: bytes, mimetype });
      case 'voice':
        return withoutUndefined({ audio: bytes, mimetype: mimetype ?? 'audio/ogg; codecs=opus', ptt: true });
      case 'document':
        return withoutUndefined({
          document: bytes,
          mimetype: mimetype ?? 'application/octet-stream',
          fileName: media.fileName,
          caption: mediaCaption,
        });
      case 'sticker':
        return withoutUndefined({ sticker: bytes, mimetype });
      case 'gif':
        if (gifVideo) {
          return withoutUndefined({
            video: { url: gifVideo.path },
            mimetype: 'video/mp4',
            gifPlayback: true,
            caption: mediaCaption,
            jpegThumbnail: gifVideo.jpegThumbnail,
          });
        }
        return withoutUndefined({ document: bytes, mimetype: mimetype ?? 'image/gif', fileName: media.fileName, caption: mediaCaption });
    }
  }
  if (typeof text === 'string' && text !== '') return { text };
  throw new BridgeError('invalid_params', 'send needs text or media');
}

function receiptStatus(receipt) {
  if (!receipt) return undefined;
  if (receipt.playedTimestamp) return { status: 5, timestamp: toNumber(receipt.playedTimestamp) };
  if (receipt.readTimestamp) return { status: 4, timestamp: toNumber(receipt.readTimestamp) };
  if (receipt.receiptTimestamp) return { status: 3, timestamp: toNumber(receipt.receiptTimestamp) };
  return undefined;
}

function describeMe(me) {
  if (!me?.id) return undefined;
  return withoutUndefined({ id: me.id, lid: me.lid || undefined, name: me.name || undefined });
}

/** A completed pairing (QR or code) stores the signed device identity; an abandoned code only `me`. */
function isPaired(creds) {
  return Boolean(creds?.account);
}

/** Status broadcasts and newsletters (channels). */
function isIgnoredChat(jid) {
  return typeof jid === 'string' && (jid === 'status@broadcast' || jid.endsWith('@newsletter'));
}

function isLidJid(jid) {
  return jid.endsWith('@lid') || jid.endsWith('@hosted.lid');
}

function isPnJid(jid) {
  return jid.endsWith('@s.whatsapp.net') || jid.endsWith('@hosted');
}

function normalizeJid(jid) {
  try {
    return jidNormalizedUser(jid) || jid;
  } catch {
    return jid;
  }
}

/** Where Baileys connects instead of WhatsApp's own address (tests, a proxy); absent means Baileys' default. */
function parseWebSocketUrl(value) {
  if (value === undefined || value === null || value === '') return undefined;
  let url;
  try {
    url = typeof value === 'string' ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
    throw new BridgeError('invalid_params', 'webSocketUrl must be an absolute ws:// or wss:// URL');
  }
  return url.href;
}

function isWaVersion(value) {
  return Array.isArray(value) && value.length === 3 && value.every((part) => Number.isInteger(part) && part >= 0);
}

function isBrowser(value) {
  return Array.isArray(value) && value.length === 3 && value.every((part) => typeof part === 'string');
}

function withoutUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a pairing wait that nobody awaits must not become an unhandled rejection
  let settled = false;
  return {
    promise,
    resolve: (value) => {
      if (!settled) (settled = true), resolve(value);
    },
    reject: (error) => {
      if (!settled) (settled = true), reject(error);
    },
  };
}
