// @ts-check
// The people the account already talks with, as WhatsApp syncs them to the linked device: the phone's address book
// (`contacts.upsert`, from app state), its direct chats (`chats.upsert`, `messaging-history.set` chats) and the named
// contacts of a history sync, as protocol event `contacts_synced`. The host counts first messages to anybody else
// against the new-contact budget; a group, a broadcast list, a channel or a mere push name makes nobody a contact.

import { isHostedLidUser, isHostedPnUser, isLidUser, isPnUser, jidDecode } from 'baileys';
import { BoundedSet } from './bounded.js';
import { withoutUndefined } from './util.js';

/** A history sync can name thousands of chats: they go to the host in events of at most this many contacts. */
export const MAX_CONTACTS_PER_EVENT = 500;
/** How many phone and LID JIDs a session remembers as reported (a repeat after that costs one extra entry). */
const REMEMBERED_CONTACTS = 50000;

/**
 * A person from the JIDs that name them (any order, any of them missing): `phone` as `<digits>@s.whatsapp.net` and
 * `lid` as `<digits>@lid`, device parts stripped; undefined when none of them is a user (a group, a broadcast list,
 * a newsletter, status).
 * @param {unknown[]} jids
 * @returns {{ phone?: string, lid?: string } | undefined}
 */
export function describeContact(jids) {
  let phone;
  let lid;
  for (const jid of jids) {
    if (typeof jid !== 'string' || !jid) continue;
    const user = jidDecode(jid)?.user;
    if (!user || !/^\d+$/.test(user)) continue;
    if (!phone && (isPnUser(jid) || isHostedPnUser(jid))) phone = `${user}@s.whatsapp.net`;
    else if (!lid && (isLidUser(jid) || isHostedLidUser(jid))) lid = `${user}@lid`;
  }
  return phone || lid ? withoutUndefined({ phone, lid }) : undefined;
}

export class ContactSync {
  /**
   * @param {object} options
   * @param {(event: string, data: object) => void} options.send sends an event of this session
   * @param {() => string[]} options.ownJids our own PN and LID JIDs (a chat with oneself is nobody else)
   * @param {number} [options.maxPerEvent]
   * @param {number} [options.remembered]
   */
  constructor({ send, ownJids, maxPerEvent = MAX_CONTACTS_PER_EVENT, remembered = REMEMBERED_CONTACTS }) {
    this.send = send;
    this.ownJids = ownJids;
    this.maxPerEvent = maxPerEvent;
    /** @type {BoundedSet<string>} phone and LID JIDs already reported */
    this.reported = new BoundedSet(remembered);
  }

  /**
   * Subscribes to the contact and chat events of a new socket.
   * @param {import('./event-translator.js').SocketSubscriber} on
   */
  attach(on) {
    on('contacts.upsert', (/** @type {Partial<import('baileys').Contact>[]} */ contacts = []) => {
      this.report(contacts.map((c) => [c?.id, c?.phoneNumber, c?.lid]));
    });
    // Every incoming message (group ones too) updates its sender's push name: an update only adds an address to
    // somebody already reported, never a new person.
    on('contacts.update', (/** @type {Partial<import('baileys').Contact>[]} */ updates = []) => {
      this.report(updates.map((c) => [c?.id, c?.phoneNumber, c?.lid]), { knownOnly: true });
    });
    on('chats.upsert', (/** @type {Partial<import('baileys').Chat>[]} */ chats = []) => {
      this.report(chats.map(chatJids));
    });
    on('messaging-history.set', (/** @type {Partial<import('baileys').BaileysEventMap['messaging-history.set']>} */ history = {}) => {
      // History contacts are the chats again (with their names) plus push names of whoever the phone has seen, group
      // members included: only a named contact (an address book or chat name) counts.
      const named = (history.contacts ?? []).filter((c) => typeof c?.name === 'string' && c.name.trim() !== '');
      this.report([...(history.chats ?? []).map(chatJids), ...named.map((c) => [c?.id, c?.phoneNumber, c?.lid])]);
    });
  }

  /**
   * Sends the people among `entries` not reported before, in chunks.
   * @param {unknown[][]} entries the JIDs of one person each
   * @param {{ knownOnly?: boolean }} [options] `knownOnly`: only people reported before (by another of their JIDs)
   */
  report(entries, { knownOnly = false } = {}) {
    const own = new Set(this.ownJids().map((jid) => describeContact([jid])).flatMap((c) => [c?.phone, c?.lid]).filter(Boolean));
    /** @type {{ phone?: string, lid?: string }[]} */
    const fresh = [];
    for (const jids of entries) {
      const contact = describeContact(jids);
      if (!contact) continue;
      const addresses = /** @type {string[]} */ ([contact.phone, contact.lid].filter(Boolean));
      if (addresses.some((address) => own.has(address))) continue;
      if (addresses.every((address) => this.reported.has(address))) continue;
      if (knownOnly && !addresses.some((address) => this.reported.has(address))) continue;
      for (const address of addresses) this.reported.add(address);
      fresh.push(contact);
    }
    for (let start = 0; start < fresh.length; start += this.maxPerEvent) {
      this.send('contacts_synced', { contacts: fresh.slice(start, start + this.maxPerEvent) });
    }
  }
}

/** @param {Partial<import('baileys').Chat> | undefined} chat */
function chatJids(chat) {
  return [chat?.id, chat?.pnJid, chat?.lidJid];
}
