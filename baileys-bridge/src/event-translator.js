// @ts-check
// Baileys' message events of one session as protocol events: `message` (then `message_media`), `receipt`,
// `lid_mapping` and `undecryptable`. Messages keep their arrival order; media downloads run after, one at a time.

import { proto } from 'baileys';
import { sessionContext } from './context.js';
import { BoundedSet } from './bounded.js';
import { findMedia, downloadWithBaileys } from './media.js';
import { PollVotes } from './message-content.js';
import { isIgnoredChat, isLidJid, isPnJid, normalizeJid } from './jids.js';
import { receiptStatus } from './receipts.js';
import { toNumber, toWire } from './wire.js';
import { withoutUndefined, withTimeout } from './util.js';

/** A stuck media download must not hold back every later message of the session (events stay in order). */
export const MEDIA_DOWNLOAD_TIMEOUT_MS = 120000;
/** How many ids of messages sent through `send` we remember, to skip downloading our own media again. */
const REMEMBERED_SENT_IDS = 1000;
/** How many LID ↔ phone pairs we remember as already reported to the host (a repeat costs one extra event). */
const REMEMBERED_MAPPINGS = 5000;

/**
 * Fetches an inbound message's media (Baileys' downloadMediaMessage by default).
 * @typedef {(message: import('baileys').WAMessage, socket: import('baileys').WASocket, logger: import('./logger.js').Logger)
 *   => Promise<import('node:stream').Readable | Buffer>} DownloadMedia
 */
/** @typedef {(event: keyof import('baileys').BaileysEventMap, handler: (payload: any, socket: import('baileys').WASocket) => unknown) => void} SocketSubscriber */

export class EventTranslator {
  /**
   * @param {object} options
   * @param {import('./session.js').Session} options.session the session, for the async context of media downloads (its `id`, `generation`)
   * @param {import('./protocol.js').ProtocolChannel} options.channel
   * @param {import('./logger.js').Logger} options.logger
   * @param {import('./session-auth.js').SessionAuth} options.auth
   * @param {import('./send-acks.js').SendAcks} options.acks
   * @param {DownloadMedia} [options.downloadMedia]
   * @param {number} [options.maxMediaBytes]
   * @param {number} [options.mediaTimeoutMs]
   * @param {import('./media.js').MediaFolder|null} [options.mediaFolder]
   */
  constructor({
    session,
    channel,
    logger,
    auth,
    acks,
    downloadMedia = downloadWithBaileys,
    maxMediaBytes = Infinity,
    mediaTimeoutMs = MEDIA_DOWNLOAD_TIMEOUT_MS,
    mediaFolder = null,
  }) {
    this.session = session;
    this.id = session.id;
    this.channel = channel;
    this.logger = logger;
    this.auth = auth;
    this.acks = acks;
    this.downloadMedia = downloadMedia;
    this.maxMediaBytes = maxMediaBytes;
    this.mediaTimeoutMs = mediaTimeoutMs;
    this.mediaFolder = mediaFolder;
    this.messageQueue = Promise.resolve(); // keeps `message` events in arrival order despite media downloads
    this.mediaQueue = Promise.resolve(); // downloads run one at a time, after their message was handed over
    this.reportedMappings = new BoundedSet(REMEMBERED_MAPPINGS);
    this.undecryptableIds = new BoundedSet(REMEMBERED_MAPPINGS); // Baileys may upsert the stub of one message again on a retry
    /** @type {Set<string>} */
    this.sentMediaIds = new Set();
    this.pollVotes = new PollVotes((/** @type {import('baileys').WAMessageKey} */ key) => this.auth.loadSentMessage(key));
  }

  /**
   * Subscribes to the message events of a new socket.
   * @param {SocketSubscriber} on subscribes a handler that runs only while the socket is current
   */
  attach(on) {
    on('messages.upsert', ({ messages = [], type }, socket) => {
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

  /**
   * A media message sent through `send`: Baileys echoes it as an upsert, whose media the host has already.
   * @param {string} id
   */
  rememberSentMedia(id) {
    this.sentMediaIds.add(id);
    const oldest = this.sentMediaIds.values().next().value;
    if (this.sentMediaIds.size > REMEMBERED_SENT_IDS && oldest !== undefined) this.sentMediaIds.delete(oldest);
  }

  /**
   * Hands one upserted message to the host at once: the message first, its media afterwards as `message_media`,
   * so a slow or failing download never holds back or loses the message itself.
   * @param {import('baileys').WAMessage} message
   * @param {string} upsertType
   * @param {import('baileys').WASocket} socket
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
    /** @type {Record<string, unknown>} */
    const data = { upsertType, raw: toWire(message) };
    this.pollVotes.remember(message);
    const pollVote = await this.pollVotes.describe(message, socket.user ?? this.auth.state.creds.me);
    if (pollVote) data.pollVote = pollVote;
    const media = findMedia(message?.message);
    if (media && key?.fromMe && key.id && this.sentMediaIds.has(key.id)) {
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

  /**
   * @param {import('baileys').WAMessage} message
   * @param {string} upsertType
   * @param {any} media
   * @param {import('baileys').WASocket} socket
   */
  async #emitMedia(message, upsertType, media, socket) {
    const session = this.session;
    const generation = session.generation;
    /** @type {Record<string, any>} */
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
        sessionContext.run({ session, generation }, async () =>
          folder.writeInbound(await this.downloadMedia(message, socket, this.logger), this.maxMediaBytes, abort.signal),
        ),
        this.mediaTimeoutMs,
        'media download timed out',
      ).finally(() => abort.abort());
      data.media = { ...file, mimetype: media.mimetype ?? 'application/octet-stream' };
      if (media.fileName) data.media.fileName = media.fileName;
    } catch (error) {
      this.logger.warn({ err: error, messageId: message?.key?.id }, 'media download failed');
      data.mediaError = /** @type {Error | undefined} */ (error)?.message || String(error);
    }
    // A session closed meanwhile still reports: the host has the message and waits for its media to send the webhook.
    this.channel.sendEvent(this.id, 'message_media', data);
  }

  /**
   * A message Baileys could not decrypt (no session with the sender, a lost key): counted by the host.
   * @param {import('baileys').WAMessage} message
   */
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
   * @param {import('baileys').WAMessageKey} key
   * @param {import('baileys').WASocket} socket
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

  /**
   * @param {import('baileys').WAMessageKey} key
   * @param {number} status a RECEIPT_STATUS
   * @param {string | undefined} participant
   * @param {number | undefined} timestamp
   */
  #sendReceipt(key, status, participant, timestamp) {
    if (!key?.id) return;
    if (this.acks.isRefusalEcho(key.id, status)) return;
    /** @type {Record<string, unknown>} */
    const data = { id: key.id, remoteJid: key.remoteJid, fromMe: Boolean(key.fromMe), status };
    if (participant) data.participant = participant;
    if (timestamp) data.timestamp = timestamp;
    this.channel.sendEvent(this.id, 'receipt', data);
  }

  /**
   * Baileys 7 puts the other addressing of the sender in key.remoteJidAlt (1:1) / key.participantAlt (groups).
   * @param {import('baileys').WAMessageKey} key
   */
  #reportKeyMappings(key) {
    if (!key) return;
    // For our own 1:1 messages the alt address may be ours, not the chat's, so only trust incoming ones.
    if (!key.fromMe) this.#reportMapping(key.remoteJid, key.remoteJidAlt);
    this.#reportMapping(key.participant, key.participantAlt);
  }

  /**
   * A LID ↔ phone pair learned elsewhere (group members): reported once, like those of messages.
   * @param {unknown} lid
   * @param {unknown} pn
   */
  reportMapping(lid, pn) {
    this.#reportMapping(lid, pn);
  }

  /**
   * @param {unknown} first
   * @param {unknown} second
   */
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
}
