// @ts-check
// One WhatsApp session's lifecycle: its current Baileys socket (created, restarted after a 515, ended), pairing, and
// the requests that act on the socket. Its host-backed auth state is in session-auth.js, the translation of message
// events into protocol events in event-translator.js, send acks in send-acks.js. A session never throws into the
// process: failures end up as a `connection` `close` event of this session only.

import { DisconnectReason, makeCacheableSignalKeyStore } from 'baileys';
import { BridgeError } from './protocol.js';
import { sessionContext } from './context.js';
import { KeyCache } from './key-cache.js';
import { SessionAuth, AUTH_STATE_ERROR } from './session-auth.js';
import { SendAcks } from './send-acks.js';
import { Outbound } from './outbound.js';
import { EventTranslator } from './event-translator.js';
import { attachConversationEvents } from './conversation-events.js';
import { deleteForMe, readMessages, subscribePresence } from './chat-actions.js';
import { GroupCache } from './group-cache.js';
import { attachGroupEvents } from './group-events.js';
import { GroupRequests } from './group-requests.js';
import { checkNumbers, profile, PushNames } from './contact-requests.js';
import { ContactSync } from './contact-sync.js';
import { deferred } from './util.js';
import { describeDisconnect, describeMe, parseWebSocketUrl, socketConfig } from './socket-options.js';

/** How many 515 restartRequired reconnects in a row we do before reporting the close to the host. */
const MAX_RESTARTS = 3;
const PAIRING_READY_TIMEOUT_MS = 20000;

const INTERNAL_ERROR = { statusCode: 500, name: 'internalError' };

/** Baileys' makeWASocket, or a test fake that answers the same calls. */
/** @typedef {(config: import('baileys').UserFacingSocketConfig) => import('baileys').WASocket} MakeSocket */

export class Session {
  /**
   * @param {object} options
   * @param {string} options.id session id chosen by the host
   * @param {import('./protocol.js').ProtocolChannel} options.channel
   * @param {MakeSocket} options.makeSocket
   * @param {import('./event-translator.js').DownloadMedia} [options.downloadMedia]
   * @param {import('./logger.js').Logger} options.logger
   * @param {number} [options.maxMediaBytes]
   * @param {number} [options.mediaTimeoutMs]
   * @param {import('./media.js').MediaFolder|null} [options.mediaFolder] where media files are exchanged with the host
   * @param {import('./gif.js').GifConverter|null} [options.gifConverter] turns `gif` sends into looping videos
   */
  constructor({ id, channel, makeSocket, downloadMedia, logger, maxMediaBytes, mediaTimeoutMs, mediaFolder = null, gifConverter = null }) {
    this.id = id;
    this.channel = channel;
    this.makeSocket = makeSocket;
    this.logger = logger.child({ session: id });
    /** @type {import('baileys').WASocket | null} */
    this.socket = null;
    this.state = 'close';
    this.generation = 0; // bumped for every socket; events of older sockets are ignored
    this.stopped = false;
    this.restarts = 0;
    /** @type {{ webSocketUrl?: string, waVersion?: unknown, browser?: unknown, pairingPhone?: string }} */
    this.options = {};
    /** @type {ReturnType<typeof deferred> | undefined} */
    this.pairingStage = undefined;
    this.pairingRequested = false;
    this.keyCache = new KeyCache(); // shared by the sockets of this session, so a 515 restart keeps it warm
    this.auth = new SessionAuth({
      id,
      channel,
      logger: this.logger,
      isStopped: () => this.stopped,
      onFailure: (reason) => this.#terminate(reason),
    });
    this.acks = new SendAcks(this.logger);
    this.events = new EventTranslator({
      session: this,
      channel,
      logger: this.logger,
      auth: this.auth,
      acks: this.acks,
      downloadMedia,
      maxMediaBytes,
      mediaTimeoutMs,
      mediaFolder,
    });
    this.outbound = new Outbound({ logger: this.logger, auth: this.auth, acks: this.acks, events: this.events, mediaFolder, gifConverter });
    // Per session, not per socket: a 515 restart or a reconnect keeps what we know about groups and names.
    this.groupCache = new GroupCache();
    this.groups = new GroupRequests(this.groupCache, (lid, pn) => this.events.reportMapping(lid, pn));
    this.pushNames = new PushNames();
    this.contactSync = new ContactSync({ send: (event, data) => this.channel.sendEvent(this.id, event, data), ownJids: () => this.#ownJids() });
  }

  /**
   * Loads the auth state from the host and creates the first socket.
   * @param {import('./sessions.js').RequestParams} params
   */
  async start(params) {
    this.options = {
      webSocketUrl: parseWebSocketUrl(params.webSocketUrl),
      waVersion: params.waVersion,
      browser: params.browser,
      pairingPhone: typeof params.pairingPhone === 'string' && params.pairingPhone ? params.pairingPhone : undefined,
    };
    try {
      await this.auth.load();
    } catch (error) {
      const message = /** @type {Error | undefined} */ (error)?.message;
      this.logger.error({ err: error }, 'could not load auth state');
      this.#terminate({ ...AUTH_STATE_ERROR, error: message });
      throw new BridgeError('internal', `auth state unavailable: ${message}`);
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
      await this.auth.clear();
    } catch (error) {
      throw new BridgeError('internal', `logged out, but the host could not clear the auth state: ${/** @type {Error | undefined} */ (error)?.message}`);
    }
    return { remoteLogout };
  }

  /** @param {unknown} phone */
  async requestPairingCode(phone) {
    if (typeof phone !== 'string' || !/^\d{6,20}$/.test(phone)) {
      throw new BridgeError('invalid_params', 'phone must be digits only');
    }
    const socket = this.socket;
    if (!socket) throw new BridgeError('not_connected', 'session has no socket; call open first');
    if (this.auth.isPaired) throw new BridgeError('invalid_params', 'session is already paired');
    // WhatsApp only accepts the pairing request once the socket reached the QR stage.
    await this.#waitForPairingStage();
    try {
      const code = await socket.requestPairingCode(phone);
      return { code };
    } catch (error) {
      throw new BridgeError('not_connected', `pairing code request failed: ${/** @type {Error | undefined} */ (error)?.message}`);
    }
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async send(params) {
    return this.outbound.send(() => this.#connectedSocket(), params);
  }

  /**
   * Asks WhatsApp whether a phone number is registered, and under which JID sends should go.
   * @param {unknown} phone
   */
  async checkNumber(phone) {
    return this.outbound.checkNumber(() => this.#connectedSocket(), phone);
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async presence(params) {
    return this.outbound.presence(() => this.#connectedSocket(), params);
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async read(params) {
    return readMessages(this.#connectedSocket(), params);
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async deleteForMe(params) {
    return deleteForMe(this.#connectedSocket(), params);
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async subscribe(params) {
    return subscribePresence(this.#connectedSocket(), params);
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async checkNumbers(params) {
    return checkNumbers(this.#connectedSocket(), params.phones, this.logger);
  }

  /** @param {import('./sessions.js').RequestParams} params */
  async profile(params) {
    return profile(this.#connectedSocket(), params.jid, this.pushNames, this.logger);
  }

  /**
   * The group requests: `group_list` → list, `group_metadata` → metadata, … (see group-requests.js).
   * @param {'list' | 'metadata' | 'create' | 'participants' | 'update' | 'inviteCode' | 'revokeInvite' | 'acceptInvite' | 'leave'} call
   * @param {import('./sessions.js').RequestParams} params
   */
  async group(call, params) {
    return this.groups[call](this.#connectedSocket(), params);
  }

  /**
   * Baileys' `cachedGroupMetadata`: a group send uses what we hold; on a miss we read the group once and keep it
   * (Baileys' own fallback read would not be kept, so every send would ask WhatsApp again).
   * @param {string} jid
   */
  async #cachedGroupMetadata(jid) {
    const cached = this.groupCache.get(jid);
    if (cached || !this.socket || this.state !== 'open') return cached;
    try {
      const metadata = await this.socket.groupMetadata(jid);
      this.groupCache.set(metadata);
      return metadata;
    } catch (error) {
      this.logger.debug({ err: error, jid }, 'group metadata for a send could not be read; Baileys asks again');
      return undefined;
    }
  }

  /** Our own user JIDs (phone and LID), to tell when a group event is about us. */
  #ownJids() {
    const me = this.socket?.user ?? this.auth.state?.creds?.me;
    return /** @type {string[]} */ ([me?.id, me?.lid].filter((jid) => typeof jid === 'string' && jid !== ''));
  }

  /**
   * Whether code started for socket `generation` still belongs to the live socket of this session.
   * @param {number} generation
   */
  isCurrent(generation) {
    return !this.stopped && generation === this.generation;
  }

  /**
   * Reports a failure that escaped our handlers (an uncaught error in this session) and ends the socket.
   * @param {unknown} error
   */
  fail(error) {
    this.logger.error({ err: error }, 'session failed; closing it');
    this.#terminate({ ...INTERNAL_ERROR, error: /** @type {Error | undefined} */ (error)?.message ?? String(error) });
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
    const config = socketConfig(this.options, {
      auth: { creds, keys: makeCacheableSignalKeyStore(keys, baileysLogger, this.keyCache) },
      logger: baileysLogger,
      // Resends after a retry receipt: Baileys' own cache is gone after a restart, the host keeps every sent message.
      getMessage: (/** @type {import('baileys').WAMessageKey} */ key) => this.auth.loadSentMessage(key),
      cachedGroupMetadata: (/** @type {string} */ jid) => this.#cachedGroupMetadata(jid),
    });

    this.pairingStage = deferred();
    this.pairingRequested = false;
    this.state = 'connecting';
    let socket;
    try {
      socket = sessionContext.run({ session: this, generation }, () => this.makeSocket(config));
    } catch (error) {
      this.logger.error({ err: error }, 'could not create socket');
      this.#terminate({ ...INTERNAL_ERROR, error: /** @type {Error | undefined} */ (error)?.message });
      return;
    }
    this.socket = socket;
    const isCurrent = () => generation === this.generation && !this.stopped;
    this.acks.watch(socket, isCurrent);
    /** @type {import('./event-translator.js').SocketSubscriber} */
    const on = (event, handler) =>
      socket.ev.on(event, (/** @type {any} */ payload) => {
        if (!isCurrent()) return;
        this.#guard(event, () => handler(payload, socket));
      });

    on('creds.update', () => this.auth.saveCreds());
    on('connection.update', (update) => this.#onConnectionUpdate(update, socket));
    this.events.attach(on);
    attachConversationEvents(on, (event, data) => this.channel.sendEvent(this.id, event, data));
    attachGroupEvents(on, {
      send: (event, data) => this.channel.sendEvent(this.id, event, data),
      cache: this.groupCache,
      ownJids: () => this.#ownJids(),
      reportMapping: (lid, pn) => this.events.reportMapping(lid, pn),
      phoneOf: async (lid) => (await socket.signalRepository?.lidMapping?.getPNForLID(lid)) ?? undefined,
    });
    this.pushNames.attach(on);
    this.contactSync.attach(on);
  }

  /**
   * @param {Partial<import('baileys').ConnectionState>} update
   * @param {import('baileys').WASocket} socket
   */
  #onConnectionUpdate(update, socket) {
    const pairingStage = /** @type {ReturnType<typeof deferred>} */ (this.pairingStage);
    if (update.qr) {
      this.channel.sendEvent(this.id, 'qr', { qr: update.qr });
      pairingStage.resolve();
      if (this.options.pairingPhone && !this.pairingRequested && !this.auth.isPaired) {
        this.pairingRequested = true;
        void this.#requestPairingForOpen(socket, this.options.pairingPhone);
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
        pairingStage.resolve();
        this.#sendConnection({ state: 'open', me: describeMe(socket.user ?? this.auth.state.creds.me) });
        break;
      case 'close': {
        const reason = describeDisconnect(update.lastDisconnect?.error);
        this.socket = null;
        this.state = 'close';
        pairingStage.reject(new BridgeError('not_connected', `connection closed (${reason.name})`));
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
   * @param {import('baileys').WASocket} socket
   * @param {string} phone
   */
  async #requestPairingForOpen(socket, phone) {
    try {
      const code = await socket.requestPairingCode(phone);
      this.channel.sendEvent(this.id, 'pairing_code', { code, phone });
    } catch (error) {
      this.logger.warn({ err: error }, 'pairing code request for open failed');
    }
  }

  async #waitForPairingStage() {
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new BridgeError('not_connected', 'socket did not reach the pairing stage in time')),
        PAIRING_READY_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.pairingStage?.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * @param {string} event
   * @param {() => unknown} handler
   */
  #guard(event, handler) {
    sessionContext.run({ session: this, generation: this.generation }, () => {
      try {
        const result = /** @type {any} */ (handler());
        if (result && typeof result.catch === 'function') {
          result.catch((/** @type {unknown} */ error) => this.#handlerFailed(event, error));
        }
      } catch (error) {
        this.#handlerFailed(event, error);
      }
    });
  }

  /**
   * @param {string} event
   * @param {unknown} error
   */
  #handlerFailed(event, error) {
    this.logger.error({ err: error, event }, 'event handler failed');
    this.fail(error);
  }

  /** @param {object} data */
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

  /** @param {object} reason */
  #terminate(reason) {
    if (this.stopped) return;
    const socket = this.socket;
    this.#detach();
    void endSocket(socket, this.logger);
    this.#sendConnection({ state: 'close', reason });
  }
}

/**
 * @param {import('baileys').WASocket | null} socket
 * @param {import('./logger.js').Logger} logger
 */
async function endSocket(socket, logger) {
  if (!socket) return;
  try {
    await socket.end(undefined);
  } catch (error) {
    logger.warn({ err: error }, 'error while ending socket');
  }
}

