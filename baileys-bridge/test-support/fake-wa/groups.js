// Groups on the fake WhatsApp: the `w:g2` IQs Baileys sends (metadata, participating groups, create, participant
// changes, subject, description, settings, invite codes, leave), answered as WhatsApp does, and the `w:gp2`
// notifications WhatsApp pushes to members' devices when a group changes (Baileys turns them into its own
// `group-participants.update` / `groups.update` events). Groups are LID-addressed, as new WhatsApp groups are:
// members are listed by LID with their phone number as `phone_number`.

import { randomBytes, randomInt } from 'node:crypto';
import { parseJid, SERVER_JID } from './directory.js';
import { child, children, newId, nowSeconds, sendIqError, sendIqResult, text } from './nodes.js';

const GROUP_SERVER = 'g.us';
const newInviteCode = () => randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 22);

/**
 * A group the fake server holds. `participants`: phones of registered contacts, or `{ phone, admin }`
 * (`admin`: 'admin' | 'superadmin'); `accountRole`: the linked account's role ('superadmin' by default, 'admin',
 * 'member', or 'none' when the account is not in the group). The creator is the account unless `creator` names a
 * contact.
 */
export function addGroup(wa, { id, subject = 'Fake group', desc, participants = [], accountRole = 'superadmin', creator, announce = false, restrict = false, creation = nowSeconds() } = {}) {
  const groupId = id ?? `1203630${randomInt(10_000_000, 99_999_999)}${randomInt(1000, 9999)}`;
  const group = {
    id: groupId,
    jid: `${groupId}@${GROUP_SERVER}`,
    subject,
    desc,
    descId: desc ? newId() : undefined,
    creation,
    announce,
    restrict,
    inviteCode: newInviteCode(),
    members: new Map(), // phone → { phone, admin }
    recentlyLeft: new Set(),
    creatorPhone: creator ?? wa.account.phone,
  };
  if (accountRole !== 'none') group.members.set(wa.account.phone, { phone: wa.account.phone, admin: accountRole === 'member' ? null : accountRole });
  for (const entry of participants) {
    const { phone, admin = null } = typeof entry === 'string' ? { phone: entry } : entry;
    if (!wa.directory.contact(phone)) throw new Error(`fake WhatsApp: group member ${phone} is not registered`);
    group.members.set(phone, { phone, admin });
  }
  wa.groups.set(group.jid, group);
  return group;
}

/** The phone JID and LID JID of a member (the account or a contact). */
function identity(wa, phone) {
  if (phone === wa.account.phone) return { pn: wa.account.jid, lid: wa.account.lidJid };
  const contact = wa.directory.contact(phone);
  return { pn: contact?.jid ?? `${phone}@${SERVER_JID}`, lid: contact?.lidJid ?? null };
}

/** A member as WhatsApp lists it in a LID group: `jid` the LID, `phone_number` the phone JID. */
function participantNode(wa, { phone, admin }) {
  const { pn, lid } = identity(wa, phone);
  const attrs = lid ? { jid: lid, phone_number: pn } : { jid: pn };
  if (admin) attrs.type = admin;
  return { tag: 'participant', attrs };
}

export function groupNode(wa, group) {
  const creator = identity(wa, group.creatorPhone);
  const content = [...group.members.values()].map((member) => participantNode(wa, member));
  if (group.desc) {
    content.push({ tag: 'description', attrs: { id: group.descId, t: String(group.creation) }, content: [{ tag: 'body', attrs: {}, content: Buffer.from(group.desc) }] });
  }
  if (group.announce) content.push({ tag: 'announcement', attrs: {} });
  if (group.restrict) content.push({ tag: 'locked', attrs: {} });
  return {
    tag: 'group',
    attrs: {
      id: group.id,
      subject: group.subject,
      s_t: String(group.creation),
      s_o: creator.lid ?? creator.pn,
      creation: String(group.creation),
      creator: creator.lid ?? creator.pn,
      ...(creator.lid ? { creator_pn: creator.pn } : {}),
      size: String(group.members.size),
      addressing_mode: 'lid',
    },
    content,
  };
}

/** The phone of a participant JID the client sent (a phone JID or a LID), or null for an unknown LID. */
function phoneOf(wa, jid) {
  const { user, server } = parseJid(jid);
  if (server === 'lid') {
    if (user === wa.account.lidUser) return wa.account.phone;
    return wa.directory.contact(jid)?.phone ?? null;
  }
  return user;
}

/**
 * Pushes a `w:gp2` notification about `group` to the client: `change` is one child node (`add`, `remove`, `promote`,
 * `demote`, `subject`, `description`, `announcement`, `locked`, …); `author` the phone of who did it.
 */
export function notifyGroup(wa, group, change, { author = wa.account.phone, connection } = {}) {
  const by = identity(wa, author);
  const attrs = { from: group.jid, type: 'w:gp2', id: newId(), t: String(nowSeconds()), addressing_mode: 'lid' };
  if (by.lid) Object.assign(attrs, { participant: by.lid, participant_pn: by.pn });
  else attrs.participant = by.pn;
  const node = { tag: 'notification', attrs, content: [change] };
  const target = connection ?? (() => {
    try {
      return wa.liveConnection();
    } catch {
      return null; // nobody logged in: the notification is lost, as for an offline device without a queue
    }
  })();
  target?.sendNode(node);
  return node;
}

/** A participants notification (`action`: add, remove, promote, demote) for members given by phone. */
export function participantsChange(wa, group, action, phones) {
  return {
    tag: action,
    attrs: {},
    content: phones.map((phone) => participantNode(wa, { phone, admin: null })),
  };
}

/** Answers a `w:g2` IQ of the client. */
export function answerGroupIq(wa, connection, iq) {
  const [first] = children(iq);
  const to = iq.attrs.to;
  const fail = (code, reason) => sendIqError(connection, iq, code, reason);
  if (to === `@${GROUP_SERVER}`) return answerGlobal(wa, connection, iq, first, fail);
  const group = wa.groups.get(to);
  if (!group) return fail(404, 'item-not-found');
  const me = group.members.get(wa.account.phone);
  if (!me) return fail(403, 'forbidden');
  if (iq.attrs.type === 'get') {
    switch (first?.tag) {
      case 'query':
        return sendIqResult(connection, iq, [groupNode(wa, group)]);
      case 'invite':
        if (!me.admin) return fail(401, 'not-authorized');
        return sendIqResult(connection, iq, [{ tag: 'invite', attrs: { code: group.inviteCode } }]);
      default:
        return fail(501, 'feature-not-implemented');
    }
  }
  if (!me.admin) return fail(401, 'not-authorized');
  switch (first?.tag) {
    case 'add':
    case 'remove':
    case 'promote':
    case 'demote':
      return changeParticipants(wa, connection, iq, group, first);
    case 'subject':
      group.subject = text(first) ?? '';
      sendIqResult(connection, iq);
      notifyGroup(wa, group, { tag: 'subject', attrs: { subject: group.subject, s_o: wa.account.lidJid, s_t: String(nowSeconds()) } });
      return undefined;
    case 'description': {
      const body = text(child(first, 'body'));
      group.desc = first.attrs.delete === 'true' ? undefined : body;
      group.descId = group.desc ? first.attrs.id : undefined;
      sendIqResult(connection, iq);
      notifyGroup(wa, group, {
        tag: 'description',
        attrs: group.desc ? { id: group.descId } : { id: newId(), delete: 'true' },
        content: group.desc ? [{ tag: 'body', attrs: {}, content: Buffer.from(group.desc) }] : undefined,
      });
      return undefined;
    }
    case 'announcement':
    case 'not_announcement':
      group.announce = first.tag === 'announcement';
      sendIqResult(connection, iq);
      notifyGroup(wa, group, { tag: first.tag, attrs: {} });
      return undefined;
    case 'locked':
    case 'unlocked':
      group.restrict = first.tag === 'locked';
      sendIqResult(connection, iq);
      notifyGroup(wa, group, { tag: first.tag, attrs: {} });
      return undefined;
    case 'invite':
      group.inviteCode = newInviteCode();
      return sendIqResult(connection, iq, [{ tag: 'invite', attrs: { code: group.inviteCode } }]);
    default:
      return fail(501, 'feature-not-implemented');
  }
}

/** IQs to `@g.us`: participating groups, create, leave, join by invite code. */
function answerGlobal(wa, connection, iq, first, fail) {
  switch (`${iq.attrs.type}:${first?.tag}`) {
    case 'get:participating': {
      const mine = [...wa.groups.values()].filter((group) => group.members.has(wa.account.phone));
      return sendIqResult(connection, iq, [{ tag: 'groups', attrs: {}, content: mine.map((group) => groupNode(wa, group)) }]);
    }
    case 'set:create': {
      const phones = children(first, 'participant').map((p) => phoneOf(wa, p.attrs.jid)).filter((phone) => phone && phone !== wa.account.phone);
      // WhatsApp creates the group with the members it may add; the others are left out.
      const addable = phones.filter((phone) => wa.directory.contact(phone) && wa.directory.contact(phone).groupAdd !== 'invite');
      const group = addGroup(wa, { subject: first.attrs.subject ?? '', participants: addable });
      return sendIqResult(connection, iq, [groupNode(wa, group)]);
    }
    case 'set:leave': {
      for (const node of children(first, 'group')) {
        const group = wa.groups.get(node.attrs.id.includes('@') ? node.attrs.id : `${node.attrs.id}@${GROUP_SERVER}`);
        if (!group?.members.has(wa.account.phone)) return fail(404, 'item-not-found');
        group.members.delete(wa.account.phone);
      }
      return sendIqResult(connection, iq, [first]);
    }
    case 'set:invite': {
      const group = [...wa.groups.values()].find((candidate) => candidate.inviteCode === first.attrs.code);
      if (!group) return fail(406, 'not-acceptable');
      if (!group.members.has(wa.account.phone)) group.members.set(wa.account.phone, { phone: wa.account.phone, admin: null });
      return sendIqResult(connection, iq, [{ tag: 'group', attrs: { jid: group.jid } }]);
    }
    default:
      return fail(501, 'feature-not-implemented');
  }
}

/**
 * add/remove/promote/demote: one `<participant jid error?>` per participant asked, as WhatsApp answers: 404 not on
 * WhatsApp (add) / not a member, 409 already a member, 408 left recently, 403 with an `<add_request>` when the
 * person's privacy settings only allow an invite. Done changes are notified to the client (`w:gp2`), as to every
 * member's device.
 */
function changeParticipants(wa, connection, iq, group, action) {
  const done = [];
  const answers = children(action, 'participant').map(({ attrs: { jid } }) => {
    const phone = phoneOf(wa, jid);
    const contact = phone ? wa.directory.contact(phone) : null;
    const member = phone ? group.members.get(phone) : null;
    const answer = (error, content) => ({ tag: 'participant', attrs: { jid, ...(error ? { error: String(error) } : {}) }, content });
    switch (action.tag) {
      case 'add':
        if (!contact) return answer(404);
        if (member) return answer(409);
        if (group.recentlyLeft.has(phone)) return answer(408);
        if (contact.groupAdd === 'invite') {
          return answer(403, [{ tag: 'add_request', attrs: { code: newInviteCode(), expiration: String(nowSeconds() + 3 * 86400) } }]);
        }
        group.members.set(phone, { phone, admin: null });
        break;
      case 'remove':
        if (!member) return answer(404);
        group.members.delete(phone);
        break;
      default:
        if (!member) return answer(404);
        member.admin = action.tag === 'promote' ? 'admin' : null;
        break;
    }
    done.push(phone);
    return answer();
  });
  sendIqResult(connection, iq, [{ tag: action.tag, attrs: {}, content: answers }]);
  if (done.length > 0) notifyGroup(wa, group, participantsChange(wa, group, action.tag, done));
}
