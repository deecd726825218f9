// @ts-check
// `check_numbers` (many numbers in one WhatsApp query) and `profile` (about, picture link, push name) for the
// contacts API. Push names: Baileys has no call for them; a session learns them from the messages and contact
// updates it sees, and remembers the most recent ones.

import { isLidJid, isPnJid, normalizeJid } from './jids.js';
import { BridgeError } from './protocol.js';
import { sendFailed } from './send-acks.js';
import { withoutUndefined } from './util.js';

/** One check_numbers request asks about at most this many numbers (the host's own limit per call is 500). */
export const MAX_NUMBERS_PER_CHECK = 500;
const REMEMBERED_PUSH_NAMES = 5000;

/** The push names a session has seen, by user JID (phone and LID alike). */
export class PushNames {
  constructor(maxEntries = REMEMBERED_PUSH_NAMES) {
    this.maxEntries = maxEntries;
    /** @type {Map<string, string>} */
    this.names = new Map();
  }

  /**
   * @param {unknown} jid
   * @param {unknown} name
   */
  remember(jid, name) {
    if (typeof jid !== 'string' || typeof name !== 'string' || !name.trim()) return;
    const user = normalizeJid(jid);
    if (!isPnJid(user) && !isLidJid(user)) return;
    this.names.delete(user);
    this.names.set(user, name);
    while (this.names.size > this.maxEntries) this.names.delete(/** @type {string} */ (this.names.keys().next().value));
  }

  /** @param {Array<string | undefined>} jids */
  find(jids) {
    for (const jid of jids) {
      const name = jid ? this.names.get(normalizeJid(jid)) : undefined;
      if (name) return name;
    }
    return undefined;
  }

  /**
   * Learns names from a new socket's messages and contact updates.
   * @param {import('./event-translator.js').SocketSubscriber} on
   */
  attach(on) {
    on('messages.upsert', ({ messages = [] } = {}) => {
      for (const message of messages) {
        const key = message?.key;
        if (!key || key.fromMe || !message.pushName) continue;
        const senders = key.participant ? [key.participant, key.participantAlt] : [key.remoteJid, key.remoteJidAlt];
        for (const sender of senders) this.remember(sender, message.pushName);
      }
    });
    const fromContacts = (/** @type {Partial<import('baileys').Contact>[]} */ contacts = []) => {
      for (const contact of contacts) {
        for (const jid of [contact?.id, contact?.lid, contact?.phoneNumber]) this.remember(jid, contact?.notify);
      }
    };
    on('contacts.upsert', fromContacts);
    on('contacts.update', fromContacts);
  }
}

/**
 * `check_numbers` `{ phones: ["491701234567", …] }` → `{ results: [{ phone, exists, jid?, lid? }] }`, one per phone in
 * order, from one `onWhatsApp` query (plus one LID lookup for the numbers found).
 * @param {import('baileys').WASocket} socket
 * @param {unknown} phones
 * @param {import('./logger.js').Logger} logger
 */
export async function checkNumbers(socket, phones, logger) {
  if (!Array.isArray(phones) || phones.length === 0 || phones.length > MAX_NUMBERS_PER_CHECK) {
    throw new BridgeError('invalid_params', `phones must be an array of 1 to ${MAX_NUMBERS_PER_CHECK} numbers (digits only)`);
  }
  phones.forEach((phone, index) => {
    if (typeof phone !== 'string' || !/^\d{6,20}$/.test(phone)) throw new BridgeError('invalid_params', `phones[${index}] must be digits only`);
  });
  const unique = [...new Set(/** @type {string[]} */ (phones))];
  let answers;
  try {
    answers = await socket.onWhatsApp(...unique.map((phone) => `${phone}@s.whatsapp.net`));
  } catch (error) {
    throw sendFailed(error);
  }
  // WhatsApp lists only the numbers it knows, each under the JID it knows it by; usually the number itself.
  /** @type {Map<string, string>} */
  const found = new Map();
  const others = [];
  for (const answer of answers ?? []) {
    if (!answer?.exists || typeof answer.jid !== 'string') continue;
    const user = normalizeJid(answer.jid).split('@')[0];
    if (unique.includes(user)) found.set(user, normalizeJid(answer.jid));
    else others.push(answer.jid);
  }
  // A JID that is no number asked (WhatsApp rewrote it, e.g. a mobile prefix): ask those numbers one by one.
  if (others.length > 0) {
    for (const phone of unique.filter((candidate) => !found.has(candidate))) {
      try {
        const [single] = (await socket.onWhatsApp(`${phone}@s.whatsapp.net`)) ?? [];
        if (single?.exists && typeof single.jid === 'string') found.set(phone, normalizeJid(single.jid));
      } catch (error) {
        throw sendFailed(error);
      }
    }
  }
  const lids = await lidsFor(socket, [...found.values()], logger);
  return {
    results: /** @type {string[]} */ (phones).map((phone) => {
      const jid = found.get(phone);
      return jid ? withoutUndefined({ phone, exists: true, jid, lid: lids.get(jid) }) : { phone, exists: false };
    }),
  };
}

/**
 * The LIDs of phone JIDs, from Baileys' LID map (one usync for those it does not know yet); none on failure.
 * @param {import('baileys').WASocket} socket
 * @param {string[]} jids
 * @param {import('./logger.js').Logger} logger
 */
async function lidsFor(socket, jids, logger) {
  /** @type {Map<string, string>} */
  const lids = new Map();
  const store = socket.signalRepository?.lidMapping;
  if (jids.length === 0 || typeof store?.getLIDsForPNs !== 'function') return lids;
  try {
    for (const pair of (await store.getLIDsForPNs(jids)) ?? []) {
      if (typeof pair?.pn === 'string' && typeof pair.lid === 'string') lids.set(normalizeJid(pair.pn), normalizeJid(pair.lid));
    }
  } catch (error) {
    logger.debug({ err: error }, 'LID lookup of checked numbers failed');
  }
  return lids;
}

/**
 * `profile` `{ jid }` (a phone or LID JID) → `{ jid, phone?, lid?, pushName?, about?, aboutSetAt?, pictureUrl? }`. A phone
 * number that is not on WhatsApp answers `not_found`; every other part is left out when WhatsApp does not tell.
 * @param {import('baileys').WASocket} socket
 * @param {unknown} jid
 * @param {PushNames} pushNames
 * @param {import('./logger.js').Logger} logger
 */
export async function profile(socket, jid, pushNames, logger) {
  if (typeof jid !== 'string' || !/^\d{5,20}@(s\.whatsapp\.net|lid)$/.test(jid)) {
    throw new BridgeError('invalid_params', 'jid must be a user JID (digits@s.whatsapp.net or digits@lid)');
  }
  let phone = isPnJid(jid) ? jid : undefined;
  let lid = isLidJid(jid) ? jid : undefined;
  const store = socket.signalRepository?.lidMapping;
  if (phone) {
    let answers;
    try {
      answers = await socket.onWhatsApp(phone);
    } catch (error) {
      throw sendFailed(error);
    }
    const found = (answers ?? []).find((answer) => answer?.exists);
    if (!found) throw new BridgeError('not_found', `${phone.split('@')[0]} is not on WhatsApp`);
    phone = normalizeJid(found.jid);
    lid = await tolerate(logger, 'lid', async () => (await store?.getLIDForPN(/** @type {string} */ (phone))) ?? undefined);
  } else {
    phone = await tolerate(logger, 'phone', async () => (await store?.getPNForLID(/** @type {string} */ (lid))) ?? undefined);
  }
  const statuses = await tolerate(logger, 'about', () => socket.fetchStatus(jid));
  const status = /** @type {any} */ (statuses?.[0])?.status;
  const pictureUrl = await tolerate(logger, 'picture', () => socket.profilePictureUrl(jid, 'image'));
  return withoutUndefined({
    jid,
    phone: phone ? normalizeJid(phone) : undefined,
    lid: lid ? normalizeJid(lid) : undefined,
    pushName: pushNames.find([phone, lid]),
    about: typeof status?.status === 'string' && status.status ? status.status : undefined,
    aboutSetAt: status?.setAt instanceof Date && status.setAt.getTime() > 0 ? Math.floor(status.setAt.getTime() / 1000) : undefined,
    pictureUrl: typeof pictureUrl === 'string' && pictureUrl ? pictureUrl : undefined,
  });
}

/**
 * One part of a profile: WhatsApp answers 404/401 for a picture nobody may see or an about kept private.
 * @template T
 * @param {import('./logger.js').Logger} logger
 * @param {string} part
 * @param {() => Promise<T>} call
 * @returns {Promise<T | undefined>}
 */
async function tolerate(logger, part, call) {
  try {
    return await call();
  } catch (error) {
    logger.debug({ err: error, part }, 'profile part not available');
    return undefined;
  }
}
