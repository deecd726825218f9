// @ts-check
// WhatsApp's answer to a sent message: it acks every message stanza, and a refused one carries `error`
// (463, 479, …), which Baileys only logs. A send waits for that ack so it can answer with the refusal.

import { BridgeError } from './protocol.js';
import { RECEIPT_STATUS } from './receipts.js';
import { withoutUndefined, withTimeout } from './util.js';

/** How long a send waits for WhatsApp's ack, which carries its error code when it refuses the message. */
const SEND_ACK_TIMEOUT_MS = 10000;
const REACHOUT_TIMELOCK_TIMEOUT_MS = 5000;
/** WhatsApp's error ack for a message to a contact the account may not reach out to (restricted account). */
const ACCOUNT_RESTRICTED = 463;
/** How many ids of refused sends we remember, to drop the ERROR status update Baileys emits for them. */
const REMEMBERED_REFUSED_IDS = 1000;

/**
 * A failed Baileys call as a `send_failed` error, with Baileys' status code (428 connection closed, 408, …) when it has one.
 * @param {any} error
 */
export function sendFailed(error) {
  const statusCode = error?.output?.statusCode;
  return new BridgeError(
    'send_failed',
    error?.message ?? String(error),
    Number.isInteger(statusCode) ? { statusCode } : undefined,
  );
}

export class SendAcks {
  /** @param {import('./logger.js').Logger} logger */
  constructor(logger) {
    this.logger = logger;
    this.watched = false;
    /** @type {Map<string, (value: { error?: string } | undefined) => void>} message id → resolve of a waiting send */
    this.pending = new Map();
    /** @type {Set<string>} sends answered with an error: their ERROR status update is not a receipt */
    this.refusedIds = new Set();
  }

  /**
   * Listens to the acks of a new socket.
   * @param {import('baileys').WASocket} socket
   * @param {() => boolean} isCurrent whether the socket is still the session's live one
   */
  watch(socket, isCurrent) {
    // Test doubles without a websocket send no acks: their sends are not held up waiting for one.
    this.watched = typeof socket.ws?.on === 'function';
    if (!this.watched) return;
    socket.ws.on('CB:ack,class:message', (/** @type {any} */ node) => {
      if (!isCurrent()) return;
      const resolve = this.pending.get(node?.attrs?.id);
      if (resolve) resolve({ error: node.attrs.error });
    });
  }

  /**
   * Starts waiting for the ack of message `id`, or undefined when this socket sends no acks.
   * @param {string | undefined} id
   * @returns {{ promise: Promise<{ error?: string } | undefined>, cancel: () => void } | undefined}
   */
  expect(id) {
    if (!id || !this.watched) return undefined;
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    /** @type {Promise<{ error?: string } | undefined>} */
    const promise = new Promise((resolve) => {
      /** @param {{ error?: string } | undefined} value */
      const done = (value) => {
        clearTimeout(timer);
        if (this.pending.get(id) === done) this.pending.delete(id);
        resolve(value);
      };
      // No ack in time: the message is on the wire, and is reported sent as before.
      timer = setTimeout(() => done(undefined), SEND_ACK_TIMEOUT_MS);
      this.pending.set(id, done);
    });
    return { promise, cancel: () => this.pending.get(id)?.(undefined) };
  }

  /**
   * Whether a status update is the echo of a refused send (Baileys emits its ERROR status before our ack listener
   * runs): the send's answer said it already, so it is no receipt.
   * @param {string} id
   * @param {number} status
   */
  isRefusalEcho(id, status) {
    return status === RECEIPT_STATUS.ERROR && (this.pending.has(id) || this.refusedIds.has(id));
  }

  /**
   * The error a send answers with when WhatsApp refused it.
   * @param {import('baileys').WASocket} socket
   * @param {string} id
   * @param {string} errorCode
   */
  async refused(socket, id, errorCode) {
    const statusCode = Number(errorCode);
    this.refusedIds.add(id);
    const oldest = this.refusedIds.values().next().value;
    if (this.refusedIds.size > REMEMBERED_REFUSED_IDS && oldest !== undefined) this.refusedIds.delete(oldest);
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

  /**
   * Until when WhatsApp keeps the account from reaching out (Baileys does not ask by itself on a 463).
   * @param {import('baileys').WASocket} socket
   */
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
}
