// @ts-check
// The requests that act on a session's live socket: `send` (with its GIF transcoding, stored copy and ack),
// `check_number` and `presence`. Each gets the socket through `connectedSocket`, which refuses a session that is
// not open, so argument checks that come first keep their order.

import { BridgeError } from './protocol.js';
import { sendFailed } from './send-acks.js';
import { buildMessageContent } from './send-content.js';
import { buildConversationContent, conversationKind, parseMentions, resolveQuoted } from './conversation-content.js';
import { toNumber } from './wire.js';

const PRESENCE_STATES = new Set(['composing', 'paused', 'available', 'unavailable', 'recording']);

export class Outbound {
  /**
   * @param {object} options
   * @param {import('./logger.js').Logger} options.logger
   * @param {import('./session-auth.js').SessionAuth} options.auth
   * @param {import('./send-acks.js').SendAcks} options.acks
   * @param {import('./event-translator.js').EventTranslator} options.events
   * @param {import('./media.js').MediaFolder|null} options.mediaFolder
   * @param {import('./gif.js').GifConverter|null} options.gifConverter
   */
  constructor({ logger, auth, acks, events, mediaFolder, gifConverter }) {
    this.logger = logger;
    this.auth = auth;
    this.acks = acks;
    this.events = events;
    this.mediaFolder = mediaFolder;
    this.gifConverter = gifConverter;
  }

  /**
   * @param {() => import('baileys').WASocket} connectedSocket
   * @param {import('./sessions.js').RequestParams} params
   */
  async send(connectedSocket, params) {
    const socket = connectedSocket();
    if (typeof params.to !== 'string' || !params.to.includes('@')) {
      throw new BridgeError('invalid_params', 'to must be a JID');
    }
    const kind = conversationKind(params);
    const mentions = parseMentions(params.mentions);
    const quoted = await resolveQuoted(params.quoted, (key) => this.auth.loadSentMessage(key));
    const gifVideo = !kind && params.media?.kind === 'gif' ? await this.#gifAsVideo(params) : undefined;
    const built = kind ? buildConversationContent(kind, params) : buildMessageContent(params, this.mediaFolder, gifVideo);
    // Baileys puts `mentions` into the content's contextInfo.mentionedJid (of the edited message for an edit).
    const content = /** @type {import('baileys').AnyMessageContent} */ (mentions ? { ...built, mentions } : built);
    /** @type {import('baileys').MiscMessageGenerationOptions} */
    const options = {};
    if (params.messageId) options.messageId = params.messageId;
    if (quoted) options.quoted = quoted;
    const ack = this.acks.expect(params.messageId);
    let sent;
    try {
      sent = await socket.sendMessage(params.to, content, options);
    } catch (error) {
      ack?.cancel();
      this.logger.warn({ err: error, to: params.to }, 'send failed');
      throw sendFailed(error);
    } finally {
      await gifVideo?.cleanup().catch((/** @type {unknown} */ error) => this.logger.warn({ err: error, file: gifVideo.path }, 'could not remove a transcoded GIF'));
    }
    if (params.media && sent?.key?.id) this.events.rememberSentMedia(sent.key.id);
    // Votes on our poll are encrypted with its messageSecret: remember it now, before any vote can arrive.
    if (sent && kind === 'poll') this.events.pollVotes.remember(sent);
    await this.auth.storeSent(sent);
    const acked = await ack?.promise;
    if (acked?.error) throw await this.acks.refused(socket, sent?.key?.id ?? params.messageId, acked.error);
    return {
      messageId: sent?.key?.id ?? params.messageId,
      timestamp: toNumber(sent?.messageTimestamp) ?? Math.floor(Date.now() / 1000),
    };
  }

  /**
   * The GIF of a `gif` send transcoded to MP4 in the media folder, or undefined when it cannot be (no ffmpeg, a
   * failed or too slow conversion): the GIF then goes as a document, which arrives whole but does not play.
   * @param {import('./sessions.js').RequestParams} params
   */
  async #gifAsVideo(params) {
    const folder = this.mediaFolder;
    if (!folder) return undefined; // buildMessageContent refuses the send
    const input = folder.checkOutbound(params.media.path);
    const context = { messageId: params.messageId, to: params.to };
    if (!this.gifConverter?.ffmpegPath) {
      this.logger.warn({ ...context, reason: 'no_ffmpeg' }, 'sending a GIF as a document: no ffmpeg to make it a video');
      return undefined;
    }
    try {
      return await this.gifConverter.convert(input, (/** @type {string} */ suffix) => folder.tempPath(suffix));
    } catch (error) {
      this.logger.warn({ ...context, reason: 'conversion_failed', err: error }, 'sending a GIF as a document: it could not be made a video');
      return undefined;
    }
  }

  /**
   * Asks WhatsApp whether a phone number is registered, and under which JID sends should go.
   * @param {() => import('baileys').WASocket} connectedSocket
   * @param {unknown} phone
   */
  async checkNumber(connectedSocket, phone) {
    if (typeof phone !== 'string' || !/^\d{6,20}$/.test(phone)) {
      throw new BridgeError('invalid_params', 'phone must be digits only');
    }
    const socket = connectedSocket();
    let results;
    try {
      results = await socket.onWhatsApp(`${phone}@s.whatsapp.net`);
    } catch (error) {
      throw sendFailed(error);
    }
    const found = (results ?? []).find((result) => result?.exists);
    return found ? { exists: true, jid: found.jid } : { exists: false };
  }

  /**
   * @param {() => import('baileys').WASocket} connectedSocket
   * @param {import('./sessions.js').RequestParams} params
   */
  async presence(connectedSocket, params) {
    const socket = connectedSocket();
    if (!PRESENCE_STATES.has(params.state)) {
      throw new BridgeError('invalid_params', `state must be one of ${[...PRESENCE_STATES].join(', ')}`);
    }
    try {
      await socket.sendPresenceUpdate(params.state, params.to || undefined);
    } catch (error) {
      throw new BridgeError('send_failed', /** @type {Error | undefined} */ (error)?.message ?? String(error));
    }
    return {};
  }
}
