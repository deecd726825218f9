// @ts-check
// The registry of sessions and the handlers of host requests (open, close, pairing_code, send, check_number, presence,
// subscribe, read, delete_for_me, logout, ping; check_numbers, profile and the group_… requests of issue 19).

import { BridgeError } from './protocol.js';
import { Session } from './session.js';

/** A host request's `params`: a JSON object whose fields each handler checks. */
/** @typedef {Record<string, any>} RequestParams */

export class SessionRegistry {
  /**
   * @param {object} options
   * @param {import('./protocol.js').ProtocolChannel} options.channel
   * @param {import('./session.js').MakeSocket} options.makeSocket
   * @param {import('./event-translator.js').DownloadMedia} [options.downloadMedia]
   * @param {import('./logger.js').Logger} options.logger
   * @param {number} options.maxSessions
   * @param {number} options.maxMediaBytes
   * @param {import('./media.js').MediaFolder | null} [options.mediaFolder]
   * @param {import('./gif.js').GifConverter | null} [options.gifConverter]
   */
  constructor({ channel, makeSocket, downloadMedia, logger, maxSessions, maxMediaBytes, mediaFolder = null, gifConverter = null }) {
    this.channel = channel;
    this.makeSocket = makeSocket;
    this.downloadMedia = downloadMedia;
    this.logger = logger;
    this.maxSessions = maxSessions;
    this.maxMediaBytes = maxMediaBytes;
    this.mediaFolder = mediaFolder;
    this.gifConverter = gifConverter;
    /** @type {Map<string, Session>} */
    this.sessions = new Map();
    /** @type {Record<string, (params: RequestParams) => Promise<unknown>>} */
    this.handlers = {
      ping: async () => ({}),
      open: (params) => this.open(params),
      close: (params) => this.close(params),
      pairing_code: (params) => this.#existing(params).requestPairingCode(params.phone),
      send: (params) => this.#existing(params).send(params),
      check_number: (params) => this.#existing(params).checkNumber(params.phone),
      check_numbers: (params) => this.#existing(params).checkNumbers(params),
      profile: (params) => this.#existing(params).profile(params),
      group_list: (params) => this.#existing(params).group('list', params),
      group_metadata: (params) => this.#existing(params).group('metadata', params),
      group_create: (params) => this.#existing(params).group('create', params),
      group_participants: (params) => this.#existing(params).group('participants', params),
      group_update: (params) => this.#existing(params).group('update', params),
      group_invite_code: (params) => this.#existing(params).group('inviteCode', params),
      group_revoke_invite: (params) => this.#existing(params).group('revokeInvite', params),
      group_accept_invite: (params) => this.#existing(params).group('acceptInvite', params),
      group_leave: (params) => this.#existing(params).group('leave', params),
      presence: (params) => this.#existing(params).presence(params),
      subscribe: (params) => this.#existing(params).subscribe(params),
      read: (params) => this.#existing(params).read(params),
      delete_for_me: (params) => this.#existing(params).deleteForMe(params),
      logout: (params) => this.logout(params),
    };
  }

  /**
   * Entry point for every host request; unknown methods answer `unknown_method`.
   * @param {import('./protocol.js').HostRequest} request
   */
  async handle({ method, params }) {
    const handler = typeof method === 'string' && Object.hasOwn(this.handlers, method) ? this.handlers[method] : undefined;
    if (!handler) throw new BridgeError('unknown_method', `unknown method ${method}`);
    return handler(params ?? {});
  }

  /** @param {RequestParams} params */
  async open(params) {
    const id = sessionId(params);
    const previous = this.sessions.get(id);
    if (previous) {
      // Opening an open session replaces its socket; the auth state stays with the host.
      this.sessions.delete(id);
      await previous.stop();
    }
    if (this.activeCount() >= this.maxSessions) {
      throw new BridgeError('session_limit', `at most ${this.maxSessions} sessions can be open`);
    }
    const session = new Session({
      id,
      channel: this.channel,
      makeSocket: this.makeSocket,
      downloadMedia: this.downloadMedia,
      logger: this.logger,
      maxMediaBytes: this.maxMediaBytes,
      mediaFolder: this.mediaFolder,
      gifConverter: this.gifConverter,
    });
    this.sessions.set(id, session);
    try {
      await session.start(params);
    } catch (error) {
      if (this.sessions.get(id) === session) this.sessions.delete(id);
      throw error;
    }
    return {};
  }

  /** Idempotent: closing a session that is not open succeeds. */
  /** @param {RequestParams} params */
  async close(params) {
    const id = sessionId(params);
    const session = this.sessions.get(id);
    if (!session) return {};
    this.sessions.delete(id);
    await session.stop();
    return {};
  }

  /** @param {RequestParams} params */
  async logout(params) {
    const session = this.#existing(params);
    try {
      return await session.logout();
    } finally {
      if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
    }
  }

  /** Ends every socket without logging out (stdin closed). */
  async stopAll() {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(sessions.map((session) => session.stop()));
  }

  /** Sessions holding a socket; closed ones wait in the registry for the host to open them again. */
  activeCount() {
    let count = 0;
    for (const session of this.sessions.values()) if (session.isActive) count += 1;
    return count;
  }

  /** @param {RequestParams} params */
  #existing(params) {
    const id = sessionId(params);
    const session = this.sessions.get(id);
    if (!session) throw new BridgeError('unknown_session', `session ${id} is not open`);
    return session;
  }
}

/**
 * @param {RequestParams | undefined} params
 * @returns {string}
 */
function sessionId(params) {
  if (typeof params?.session !== 'string' || params.session === '') {
    throw new BridgeError('invalid_params', 'session is required');
  }
  return params.session;
}
