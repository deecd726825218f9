// @ts-check
// Group metadata a session has read, for Baileys' `cachedGroupMetadata`: without it every group send asks WhatsApp for
// the group's participants first. Filled by metadata reads (group_metadata, group_list, group_create, Baileys'
// own fetch on a `dirty` groups notification) and kept current from the group events Baileys raises.

import { areJidsSameUser } from 'baileys';

/** Groups kept per session; the least recently used goes first (a send reads its group again). */
export const MAX_CACHED_GROUPS = 500;

export class GroupCache {
  /** @param {number} [maxEntries] */
  constructor(maxEntries = MAX_CACHED_GROUPS) {
    this.maxEntries = maxEntries;
    /** @type {Map<string, import('baileys').GroupMetadata>} */
    this.groups = new Map();
  }

  /**
   * Baileys' `cachedGroupMetadata(jid)`: undefined makes it fetch the metadata itself (and a send then fills us,
   * through the socket option's wrapper).
   * @param {string} jid
   */
  get(jid) {
    const metadata = this.groups.get(jid);
    if (!metadata) return undefined;
    this.groups.delete(jid);
    this.groups.set(jid, metadata);
    return metadata;
  }

  /** @param {import('baileys').GroupMetadata} metadata */
  set(metadata) {
    if (!metadata?.id || !Array.isArray(metadata.participants)) return;
    this.groups.delete(metadata.id);
    this.groups.set(metadata.id, metadata);
    while (this.groups.size > this.maxEntries) this.groups.delete(/** @type {string} */ (this.groups.keys().next().value));
  }

  /** @param {string} jid */
  forget(jid) {
    this.groups.delete(jid);
  }

  get size() {
    return this.groups.size;
  }

  /**
   * A `groups.update` entry: full metadata (Baileys' groupFetchAllParticipating emits those) replaces ours; a change
   * (subject, description, settings) is applied to what we hold.
   * @param {Partial<import('baileys').GroupMetadata>} update
   */
  applyUpdate(update) {
    if (!update?.id) return;
    if (Array.isArray(update.participants) && typeof update.subject === 'string') {
      this.set(/** @type {import('baileys').GroupMetadata} */ (update));
      return;
    }
    const cached = this.groups.get(update.id);
    if (!cached) return;
    for (const field of /** @type {const} */ (['subject', 'desc', 'announce', 'restrict', 'memberAddMode', 'joinApprovalMode', 'ephemeralDuration'])) {
      if (update[field] !== undefined) /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (cached))[field] = update[field];
    }
  }

  /**
   * A `group-participants.update`: members added, removed, promoted or demoted in place; anything else (a member
   * who changed number) drops the group, so the next send reads it again.
   * @param {{ id: string, action: string, participants: Array<string | import('baileys').GroupParticipant> }} update
   * @param {string[]} ownJids our own PN and LID JIDs
   */
  applyParticipants(update, ownJids) {
    const cached = this.groups.get(update?.id);
    if (!cached) return;
    const affected = (update.participants ?? []).map((p) => (typeof p === 'string' ? { id: p } : p)).filter((p) => p?.id);
    const same = (/** @type {import('baileys').GroupParticipant} */ member, /** @type {import('baileys').GroupParticipant} */ other) =>
      [member.id, member.phoneNumber, member.lid].some((jid) => jid && [other.id, other.phoneNumber, other.lid].some((o) => o && areJidsSameUser(jid, o)));
    switch (update.action) {
      case 'add':
        for (const member of affected) {
          if (!cached.participants.some((existing) => same(existing, member))) cached.participants.push({ ...member, admin: null });
        }
        break;
      case 'remove':
        if (affected.some((member) => ownJids.some((own) => same(member, { id: own })))) {
          this.forget(update.id); // we are out: WhatsApp tells us nothing more about this group
          return;
        }
        cached.participants = cached.participants.filter((existing) => !affected.some((member) => same(existing, member)));
        break;
      case 'promote':
      case 'demote':
        for (const existing of cached.participants) {
          if (affected.some((member) => same(existing, member))) existing.admin = update.action === 'promote' ? 'admin' : null;
        }
        break;
      default:
        this.forget(update.id);
        return;
    }
    cached.size = cached.participants.length;
  }
}
