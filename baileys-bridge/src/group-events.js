// @ts-check
// Baileys' group events as protocol events `group_participants` and `group_update`, mapped in place; they also keep
// the session's group cache current (group-cache.js).

import { areJidsSameUser } from 'baileys';
import { isLidJid, isPnJid, normalizeJid } from './jids.js';
import { withoutUndefined } from './util.js';

/** The group settings the host is told about when they change. */
const REPORTED_CHANGES = /** @type {const} */ (['subject', 'desc', 'announce', 'restrict']);

/**
 * A group member as the protocol describes it: its phone JID and LID JID where either is known (device parts
 * stripped), and its role where Baileys gave one.
 * @param {string | Partial<import('baileys').GroupParticipant>} participant
 */
export function describeParticipant(participant) {
  const entry = typeof participant === 'string' ? { id: participant } : (participant ?? {});
  const jids = [entry.id, entry.phoneNumber, entry.lid].filter((jid) => typeof jid === 'string' && jid).map((jid) => normalizeJid(/** @type {string} */ (jid)));
  return withoutUndefined({
    id: typeof entry.id === 'string' ? normalizeJid(entry.id) : undefined,
    phone: jids.find(isPnJid),
    lid: jids.find(isLidJid),
    admin: entry.admin === 'admin' || entry.admin === 'superadmin' ? entry.admin : undefined,
  });
}

/**
 * Baileys' GroupMetadata as the protocol's `group`: the fields the host maps, participants described.
 * @param {import('baileys').GroupMetadata} metadata
 */
export function describeGroup(metadata) {
  const owner = [metadata.owner, metadata.ownerPn].filter((jid) => typeof jid === 'string' && jid).map((jid) => normalizeJid(/** @type {string} */ (jid)));
  return withoutUndefined({
    id: metadata.id,
    subject: metadata.subject ?? '',
    desc: metadata.desc || undefined,
    owner: owner.find(isPnJid),
    ownerLid: owner.find(isLidJid),
    creation: Number.isFinite(metadata.creation) ? metadata.creation : undefined,
    announce: Boolean(metadata.announce),
    restrict: Boolean(metadata.restrict),
    size: Number.isFinite(metadata.size) ? metadata.size : metadata.participants?.length ?? 0,
    addressingMode: metadata.addressingMode || undefined,
    participants: (metadata.participants ?? []).map(describeParticipant),
  });
}

/**
 * Who did it, from Baileys' `author`/`authorPn`.
 * @param {{ author?: string | null, authorPn?: string | null }} update
 */
function describeAuthor(update) {
  const jids = [update.author, update.authorPn].filter((jid) => typeof jid === 'string' && jid).map((jid) => normalizeJid(/** @type {string} */ (jid)));
  return withoutUndefined({ author: jids.find(isPnJid), authorLid: jids.find(isLidJid) });
}

/**
 * Subscribes to the group events of a new socket.
 * @param {import('./event-translator.js').SocketSubscriber} on
 * @param {object} options
 * @param {(event: string, data: object) => void} options.send sends an event of this session
 * @param {import('./group-cache.js').GroupCache} options.cache
 * @param {() => string[]} options.ownJids our own PN and LID JIDs
 * @param {(lid: unknown, pn: unknown) => void} options.reportMapping reports a LID ↔ phone pair seen in group data
 * @param {(lid: string) => Promise<string | undefined>} options.phoneOf the phone JID Baileys' LID map holds for a LID
 */
export function attachGroupEvents(on, { send, cache, ownJids, reportMapping, phoneOf }) {
  /**
   * Baileys drops the `participant_pn` of a notification (its message key has no field for it): the author comes
   * as a LID only, and its phone number is looked up in Baileys' LID map.
   * @param {{ author?: string | null, authorPn?: string | null }} update
   */
  async function author(update) {
    const described = describeAuthor(update);
    if (described.authorLid && !described.author) {
      const phone = await phoneOf(described.authorLid).catch(() => undefined);
      if (phone) return { author: normalizeJid(phone), authorLid: described.authorLid };
    }
    return described;
  }

  on('groups.upsert', (/** @type {import('baileys').GroupMetadata[]} */ groups = []) => {
    for (const metadata of groups) {
      cache.set(metadata);
      reportParticipantMappings(metadata.participants, reportMapping);
    }
  });
  on('groups.update', async (/** @type {Partial<import('baileys').GroupMetadata>[]} */ updates = []) => {
    for (const update of updates) {
      if (!update?.id) continue;
      cache.applyUpdate(update);
      // Full metadata (a participating-groups fetch) is a refresh, not a change anybody made.
      if (Array.isArray(update.participants)) {
        reportParticipantMappings(update.participants, reportMapping);
        continue;
      }
      // A removed description comes as `desc: undefined`; the host is told "" (no description any more).
      const changes = Object.fromEntries(REPORTED_CHANGES.filter((field) => update[field] !== undefined || (field === 'desc' && Object.hasOwn(update, 'desc')))
        .map((field) => [field, update[field] ?? '']));
      if (Object.keys(changes).length === 0) continue;
      send('group_update', { id: update.id, ...changes, ...(await author(update)) });
    }
  });
  on('group-participants.update', async (/** @type {import('baileys').BaileysEventMap['group-participants.update']} */ update) => {
    if (!update?.id) return;
    cache.applyParticipants(update, ownJids());
    const participants = (update.participants ?? []).map(describeParticipant);
    reportParticipantMappings(update.participants ?? [], reportMapping);
    const by = await author(update);
    let action = /** @type {string} */ (update.action);
    // Baileys reports a member who removed themselves as `remove` (its stub says LEAVE); the host calls that `leave`.
    if (action === 'remove' && participants.length === 1 && [by.author, by.authorLid].some((jid) =>
      jid && [participants[0].phone, participants[0].lid].some((member) => member && areJidsSameUser(member, jid)))) {
      action = 'leave';
    }
    send('group_participants', { id: update.id, action, participants, ...by });
  });
}

/**
 * @param {Array<string | Partial<import('baileys').GroupParticipant>>} participants
 * @param {(lid: unknown, pn: unknown) => void} reportMapping
 */
export function reportParticipantMappings(participants, reportMapping) {
  for (const participant of participants ?? []) {
    const { phone, lid } = describeParticipant(participant);
    if (phone && lid) reportMapping(lid, phone);
  }
}
