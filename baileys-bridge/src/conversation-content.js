// @ts-check
// The conversation kinds of a `send` (reaction, location, contacts, poll, edit, delete) and its `mentions` and
// `quoted`, checked and turned into what Baileys' sendMessage takes. Text and media stay in send-content.js.

import { Buffer } from 'node:buffer';
import { getContentType, normalizeMessageContent, proto } from 'baileys';
import { BridgeError } from './protocol.js';
import { withoutUndefined } from './util.js';

/** The content fields of a `send`; exactly one kind per send (`text` may come with `media` as its caption). */
export const CONVERSATION_KINDS = /** @type {const} */ (['reaction', 'location', 'contacts', 'poll', 'edit', 'delete']);
/** Kinds that act on another message: they take no `quoted` and no `mentions`. */
const ACTS_ON_MESSAGE = new Set(['reaction', 'edit', 'delete']);
/** WhatsApp's limits for a poll. */
const POLL_OPTIONS = { min: 2, max: 12 };

/** @typedef {import('./sessions.js').RequestParams} RequestParams */
/** @typedef {import('baileys').WAMessageKey} MessageKey */

/**
 * @param {string} field
 * @param {string} problem
 */
const invalid = (field, problem) => new BridgeError('invalid_params', `${field} ${problem}`);

/**
 * @param {unknown} value
 * @param {string} field
 */
function requireString(value, field) {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(field, 'must be a non-empty string');
  return value;
}

/**
 * @param {unknown} value
 * @param {string} field
 */
function optionalString(value, field) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  return value;
}

/**
 * @param {unknown} value
 * @param {string} field
 */
function requireJid(value, field) {
  if (typeof value !== 'string' || !value.includes('@')) throw invalid(field, 'must be a JID');
  return value;
}

/**
 * A message key from the host: `{ id, remoteJid, fromMe, participant? }`.
 * @param {unknown} value
 * @param {string} field e.g. `reaction.key`
 * @param {{ fromMe?: boolean }} [defaults] `fromMe` when the key has none (receipts only concern others' messages)
 * @returns {MessageKey}
 */
export function parseKey(value, field, defaults = {}) {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid(field, 'must be an object {id, remoteJid, fromMe, participant?}');
  const key = /** @type {Record<string, unknown>} */ (value);
  const fromMe = key.fromMe ?? defaults.fromMe;
  if (typeof fromMe !== 'boolean') throw invalid(`${field}.fromMe`, 'must be true or false');
  const participant = key.participant === undefined || key.participant === null ? undefined : requireJid(key.participant, `${field}.participant`);
  return withoutUndefined({
    id: requireString(key.id, `${field}.id`),
    remoteJid: requireJid(key.remoteJid, `${field}.remoteJid`),
    fromMe,
    participant,
  });
}

/**
 * The conversation kind this send carries, or undefined for text/media; refuses a send with several kinds.
 * @param {RequestParams} params
 */
export function conversationKind(params) {
  const present = CONVERSATION_KINDS.filter((kind) => params[kind] !== undefined && params[kind] !== null);
  const textOrMedia = params.media || (typeof params.text === 'string' && params.text !== '');
  const others = [...present, ...(textOrMedia ? ['text/media'] : [])];
  if (others.length > 1) throw new BridgeError('invalid_params', `send takes exactly one of text/media, ${CONVERSATION_KINDS.join(', ')}; got ${others.join(' and ')}`);
  const kind = present[0];
  if (kind && ACTS_ON_MESSAGE.has(kind)) {
    if (params.quoted !== undefined && params.quoted !== null) throw invalid('quoted', `cannot go with ${kind}`);
    if (kind !== 'edit' && params.mentions !== undefined && params.mentions !== null) throw invalid('mentions', `cannot go with ${kind}`);
  }
  return kind;
}

/**
 * Baileys content for a conversation kind (see `conversationKind`).
 * @param {typeof CONVERSATION_KINDS[number]} kind
 * @param {RequestParams} params
 * @returns {import('baileys').AnyMessageContent}
 */
export function buildConversationContent(kind, params) {
  switch (kind) {
    case 'reaction': {
      const reaction = params.reaction;
      if (typeof reaction?.emoji !== 'string') throw invalid('reaction.emoji', 'must be a string ("" removes the reaction)');
      return { react: { key: parseKey(reaction.key, 'reaction.key'), text: reaction.emoji } };
    }
    case 'location':
      return { location: location(params.location) };
    case 'contacts':
      return { contacts: contactCards(params.contacts) };
    case 'poll':
      return { poll: poll(params.poll) };
    case 'edit':
      return { text: requireString(params.edit?.text, 'edit.text'), edit: parseKey(params.edit?.key, 'edit.key') };
    case 'delete':
      return { delete: parseKey(params.delete?.key, 'delete.key') };
  }
}

/**
 * @param {any} value
 * @returns {import('baileys').proto.Message.ILocationMessage}
 */
function location(value) {
  if (!value || typeof value !== 'object') throw invalid('location', 'must be an object {latitude, longitude, name?, address?}');
  const { latitude, longitude } = value;
  if (typeof latitude !== 'number' || !Number.isFinite(latitude) || Math.abs(latitude) > 90) throw invalid('location.latitude', 'must be a number from -90 to 90');
  if (typeof longitude !== 'number' || !Number.isFinite(longitude) || Math.abs(longitude) > 180) throw invalid('location.longitude', 'must be a number from -180 to 180');
  return withoutUndefined({
    degreesLatitude: latitude,
    degreesLongitude: longitude,
    name: optionalString(value.name, 'location.name'),
    address: optionalString(value.address, 'location.address'),
  });
}

/**
 * One vCard per contact, with the number as `waid` so WhatsApp offers "Message" / "Add" for it.
 * @param {unknown} value
 */
function contactCards(value) {
  if (!Array.isArray(value) || value.length === 0) throw invalid('contacts', 'must be a non-empty array of {name, number}');
  const cards = value.map((contact, index) => {
    const name = requireString(contact?.name, `contacts[${index}].name`);
    const number = typeof contact?.number === 'string' ? contact.number.replace(/^\+/, '') : undefined;
    if (!number || !/^\d{6,20}$/.test(number)) throw invalid(`contacts[${index}].number`, 'must be 6 to 20 digits (international format, an optional leading +)');
    return { displayName: name, vcard: vCard(name, number) };
  });
  return { displayName: cards.length === 1 ? cards[0].displayName : `${cards.length} contacts`, contacts: cards };
}

/**
 * @param {string} name
 * @param {string} number digits only
 */
export function vCard(name, number) {
  // RFC 2426 text escaping: a name with ";" or "," must not split into fields.
  const text = name.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
  return ['BEGIN:VCARD', 'VERSION:3.0', `N:;${text};;;`, `FN:${text}`, `TEL;type=CELL;type=VOICE;waid=${number}:+${number}`, 'END:VCARD'].join('\n');
}

/** @param {any} value */
function poll(value) {
  if (!value || typeof value !== 'object') throw invalid('poll', 'must be an object {name, options, selectableCount}');
  const name = requireString(value.name, 'poll.name');
  const options = value.options;
  if (!Array.isArray(options) || options.length < POLL_OPTIONS.min || options.length > POLL_OPTIONS.max) {
    throw invalid('poll.options', `must be an array of ${POLL_OPTIONS.min} to ${POLL_OPTIONS.max} names`);
  }
  options.forEach((option, index) => requireString(option, `poll.options[${index}]`));
  // Votes name an option by the hash of its name: two equal names could not be told apart.
  if (new Set(options).size !== options.length) throw invalid('poll.options', 'must not repeat a name');
  const selectableCount = value.selectableCount ?? 0;
  if (selectableCount !== 0 && selectableCount !== 1) throw invalid('poll.selectableCount', 'must be 0 (any number of options) or 1 (one option)');
  return { name, values: /** @type {string[]} */ (options), selectableCount };
}

/**
 * `mentions` as Baileys takes them (`contextInfo.mentionedJid`), or undefined.
 * @param {unknown} value
 * @returns {string[] | undefined}
 */
export function parseMentions(value) {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw invalid('mentions', 'must be an array of JIDs');
  return value.map((jid, index) => requireJid(jid, `mentions[${index}]`));
}

/** What WhatsApp shows as the quoted text when the quoted message's content is not known here. */
const QUOTE_STUB = { conversation: '' };

/**
 * The message a reply quotes, as Baileys' `quoted` option wants it: its key and a `message` with one content type
 * (Baileys copies that into `contextInfo.quotedMessage`, with `stanzaId` = key.id and `participant` = the author).
 * @param {unknown} value the send's `quoted`
 * @param {(key: MessageKey) => Promise<import('baileys').proto.IMessage | undefined>} loadSent our own sent message, from the host
 * @returns {Promise<import('baileys').WAMessage | undefined>}
 */
export async function resolveQuoted(value, loadSent) {
  if (value === undefined || value === null) return undefined;
  const key = parseKey(value, 'quoted');
  const quoted = /** @type {Record<string, unknown>} */ (value);
  let message;
  if (quoted.content !== undefined && quoted.content !== null) {
    if (typeof quoted.content !== 'string') throw invalid('quoted.content', 'must be a base64 proto.Message');
    try {
      message = proto.Message.decode(Buffer.from(quoted.content, 'base64'));
    } catch {
      throw invalid('quoted.content', 'is not a base64 proto.Message');
    }
  } else if (key.fromMe) {
    message = await loadSent(key);
  }
  // Baileys needs a content type to copy; an empty or unknown message would make it throw.
  if (!message || !getContentType(normalizeMessageContent(message) ?? undefined)) message = QUOTE_STUB;
  return { key, message: /** @type {import('baileys').proto.IMessage} */ (message) };
}
