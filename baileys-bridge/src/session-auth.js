// @ts-check
// A session's side of the host-backed auth state: loading it, saving creds, the sent messages the host keeps for
// resends, and the rule that a refused auth call closes the session.

import { Buffer } from 'node:buffer';
import { initAuthCreds, proto } from 'baileys';
import { AuthCallError, BridgeError } from './protocol.js';
import { loadHostAuthState } from './auth-state.js';

const WRITE_OPS = new Set(['save_creds', 'set_keys', 'clear']);

export const AUTH_STATE_ERROR = { statusCode: 500, name: 'authStateError' };

/**
 * A completed pairing (QR or code) stores the signed device identity; an abandoned code only `me`.
 * @param {import('baileys').AuthenticationCreds | undefined} creds
 */
export function isPaired(creds) {
  return Boolean(creds?.account);
}

export class SessionAuth {
  /**
   * @param {object} options
   * @param {string} options.id session id
   * @param {import('./protocol.js').ProtocolChannel} options.channel
   * @param {import('./logger.js').Logger} options.logger
   * @param {() => boolean} options.isStopped whether the session was stopped (its late writes are refused)
   * @param {(reason: object) => void} options.onFailure closes the session with a close reason
   */
  constructor({ id, channel, logger, isStopped, onFailure }) {
    this.id = id;
    this.channel = channel;
    this.logger = logger;
    this.isStopped = isStopped;
    this.onFailure = onFailure;
    /** @type {{ state: { creds: import('baileys').AuthenticationCreds, keys: import('baileys').SignalKeyStore }, saveCreds: () => Promise<void> } | null} */
    this.auth = null;
  }

  /** The loaded auth state (creds and keys); only after `load`. */
  get state() {
    if (!this.auth) throw new Error('auth state not loaded');
    return this.auth.state;
  }

  /** Whether the loaded creds belong to a linked device. */
  get isPaired() {
    return isPaired(this.auth?.state.creds);
  }

  /** Loads the auth state from the host, dropping the creds of a pairing that was never completed. */
  async load() {
    this.auth = await loadHostAuthState((/** @type {string} */ op, /** @type {object} */ params) => this.call(op, params));
    await this.#forgetAbandonedPairing();
  }

  async saveCreds() {
    try {
      await this.auth?.saveCreds();
    } catch (error) {
      this.logger.error({ err: error }, 'save_creds failed');
    }
  }

  /** Asks the host to forget the auth state (logout); unlike `call`, a refusal does not close the session. */
  async clear() {
    await this.channel.callAuth(this.id, 'clear', {});
  }

  /**
   * Every auth call goes through here so a refused call closes the session as the protocol requires.
   * @param {string} op
   * @param {object} params
   */
  async call(op, params) {
    // A stopped session's socket may still flush keys or creds (Baileys ends asynchronously); writing them could
    // overwrite what a newer socket of the same instance stored since.
    if (this.isStopped() && WRITE_OPS.has(op)) throw new BridgeError('not_connected', `session is closed; ${op} refused`);
    try {
      return await this.channel.callAuth(this.id, op, params);
    } catch (error) {
      if (error instanceof AuthCallError && op !== 'load_creds') {
        this.logger.error({ err: error, op }, 'auth call failed; closing session');
        this.onFailure({ ...AUTH_STATE_ERROR, error: error.message });
      }
      throw error;
    }
  }

  /**
   * Hands the message as sent (media keys included) to the host, which keeps it for resends.
   * @param {import('baileys').WAMessage | undefined} sent
   */
  async storeSent(sent) {
    if (!sent?.key?.id || !sent.message) return;
    const content = Buffer.from(proto.Message.encode(sent.message).finish()).toString('base64');
    try {
      await this.channel.callAuth(this.id, 'store_message', { id: sent.key.id, remoteJid: sent.key.remoteJid, content });
    } catch (error) {
      // The message is out; only a later resend of it would fail.
      this.logger.warn({ err: error, messageId: sent.key.id }, 'the host could not store the sent message');
    }
  }

  /**
   * Baileys' getMessage: the content the host stored when the message was sent.
   * @param {import('baileys').WAMessageKey} key
   */
  async loadSentMessage(key) {
    if (!key?.id) return undefined;
    try {
      const { content } = await this.channel.callAuth(this.id, 'get_message', { id: key.id, remoteJid: key.remoteJid });
      return typeof content === 'string' && content ? proto.Message.decode(Buffer.from(content, 'base64')) : undefined;
    } catch (error) {
      this.logger.warn({ err: error, messageId: key.id }, 'the host could not serve a sent message for a resend');
      return undefined;
    }
  }

  /**
   * `requestPairingCode` stores `creds.me` (a wrong code even sets `registered`) before anything is linked; only a
   * completed pairing sets `creds.account`. WhatsApp refuses the next login of such creds with 401, which would read
   * as "logged out": start over with fresh creds instead, so the user gets a fresh QR or can ask for a new code.
   */
  async #forgetAbandonedPairing() {
    const { creds } = this.state;
    if (!creds.me || creds.account) return;
    this.logger.warn({ me: creds.me.id }, 'pairing was never completed; starting over with fresh credentials');
    await this.call('clear', {});
    // In place: the auth state's saveCreds serialises this very object.
    for (const key of /** @type {(keyof typeof creds)[]} */ (Object.keys(creds))) delete creds[key];
    Object.assign(creds, initAuthCreds());
    await this.auth?.saveCreds();
  }
}
