// @ts-check
// The group requests (group_list, group_metadata, group_create, group_participants, group_update, group_invite_code,
// group_revoke_invite, group_accept_invite, group_leave): Baileys' group calls, their answers described for the host
// and WhatsApp's refusals turned into protocol error codes. Metadata read here fills the session's group cache.

import { BridgeError } from './protocol.js';
import { describeGroup, reportParticipantMappings } from './group-events.js';

const PARTICIPANT_ACTIONS = new Set(['add', 'remove', 'promote', 'demote']);
/** WhatsApp takes at most this many participants in one change (a group holds 1024). */
const MAX_PARTICIPANTS = 1024;
const MAX_SUBJECT_CHARS = 100;
const MAX_DESCRIPTION_CHARS = 2048;

/** What a `200` means for each action. */
const DONE = /** @type {Record<string, string>} */ ({ add: 'added', remove: 'removed', promote: 'promoted', demote: 'demoted' });

/**
 * WhatsApp's error code of a failed Baileys call: `assertNodeErrorFree` puts the IQ's `<error code>` in `data` (its
 * Boom status stays 500); extractGroupMetadata and Baileys' own failures (408 timed out, 428 closed) use the status.
 * @param {any} error
 * @returns {number | undefined}
 */
export function whatsAppCode(error) {
  if (typeof error?.data === 'number' && Number.isInteger(error.data)) return error.data;
  const status = error?.output?.statusCode;
  return Number.isInteger(status) ? status : undefined;
}

/**
 * A failed group call as a protocol error: `not_found` (no such group, or — for reads — we are not in it),
 * `refused` (not an admin, not allowed), else `send_failed` with WhatsApp's code as `statusCode`.
 * @param {any} error
 * @param {{ read?: boolean }} [options] a read answers 403 `forbidden` when we are not a member
 */
export function groupFailure(error, { read = false } = {}) {
  if (error instanceof BridgeError) return error;
  const code = whatsAppCode(error);
  const message = error?.message ?? String(error);
  const details = code === undefined ? undefined : { statusCode: code };
  if (code === 404 || message === 'item-not-found') return new BridgeError('not_found', `WhatsApp does not know this group for this account (${message})`, details);
  if (read && code === 403) return new BridgeError('not_found', `this account is not a member of the group (${message})`, details);
  if (code === 401 || code === 403) return new BridgeError('refused', `WhatsApp refused: this account may not do that in the group (${message})`, details);
  return new BridgeError('send_failed', message, details);
}

/**
 * @template T
 * @param {() => Promise<T>} call
 * @param {{ read?: boolean }} [options]
 * @returns {Promise<T>}
 */
async function run(call, options) {
  try {
    return await call();
  } catch (error) {
    throw groupFailure(error, options);
  }
}

/** @param {unknown} id */
function groupJid(id, field = 'id') {
  if (typeof id !== 'string' || !/^[\d-]{6,40}@g\.us$/.test(id)) throw new BridgeError('invalid_params', `${field} must be a group JID (…@g.us)`);
  return id;
}

/** @param {unknown} participants */
function participantJids(participants, { allowEmpty = false } = {}) {
  if (!Array.isArray(participants) || participants.length > MAX_PARTICIPANTS || (!allowEmpty && participants.length === 0)) {
    throw new BridgeError('invalid_params', `participants must be an array of ${allowEmpty ? 0 : 1} to ${MAX_PARTICIPANTS} JIDs`);
  }
  participants.forEach((jid, index) => {
    if (typeof jid !== 'string' || !/^\d{5,20}@(s\.whatsapp\.net|lid)$/.test(jid)) {
      throw new BridgeError('invalid_params', `participants[${index}] must be a user JID (digits@s.whatsapp.net or digits@lid)`);
    }
  });
  return /** @type {string[]} */ (participants);
}

/**
 * @param {unknown} text
 * @param {string} field
 * @param {number} max
 */
function checkText(text, field, max, { allowEmpty = false } = {}) {
  if (typeof text !== 'string' || (!allowEmpty && text.trim() === '') || [...text].length > max) {
    throw new BridgeError('invalid_params', `${field} must be ${allowEmpty ? 'a' : 'a non-empty'} text of at most ${max} characters`);
  }
  return text;
}

export class GroupRequests {
  /**
   * @param {import('./group-cache.js').GroupCache} cache
   * @param {(lid: unknown, pn: unknown) => void} reportMapping reports the LID ↔ phone pairs of the members read
   */
  constructor(cache, reportMapping) {
    this.cache = cache;
    this.reportMapping = reportMapping;
  }

  /**
   * Metadata WhatsApp answered: kept for sends, and its members' LID ↔ phone pairs told to the host.
   * @param {import('baileys').GroupMetadata} metadata
   */
  #learn(metadata) {
    this.cache.set(metadata);
    reportParticipantMappings(metadata.participants, this.reportMapping);
  }

  /** @param {import('baileys').WASocket} socket */
  async list(socket) {
    const groups = await run(() => socket.groupFetchAllParticipating(), { read: true });
    const all = Object.values(groups ?? {});
    for (const metadata of all) this.#learn(metadata);
    return { groups: all.map(describeGroup) };
  }

  /**
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async metadata(socket, params) {
    const id = groupJid(params.id);
    const metadata = await run(() => socket.groupMetadata(id), { read: true });
    this.#learn(metadata);
    return { group: describeGroup(metadata) };
  }

  /**
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async create(socket, params) {
    const subject = checkText(params.subject, 'subject', MAX_SUBJECT_CHARS);
    const participants = participantJids(params.participants, { allowEmpty: true });
    const metadata = await run(() => socket.groupCreate(subject, participants));
    this.#learn(metadata);
    return { group: describeGroup(metadata) };
  }

  /**
   * `group_participants`: one result per participant asked, in order, with WhatsApp's answer as a status.
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async participants(socket, params) {
    const id = groupJid(params.id);
    const { action } = params;
    if (!PARTICIPANT_ACTIONS.has(action)) throw new BridgeError('invalid_params', `action must be one of ${[...PARTICIPANT_ACTIONS].join(', ')}`);
    const asked = participantJids(params.participants);
    const answers = await run(() => socket.groupParticipantsUpdate(id, asked, action));
    const unmatched = [...(answers ?? [])];
    const results = asked.map((jid) => {
      const index = unmatched.findIndex((answer) => answerIsFor(answer, jid));
      if (index < 0) return { participant: jid, status: 'failed', detail: 'WhatsApp did not answer for this participant' };
      const [answer] = unmatched.splice(index, 1);
      return { participant: jid, ...participantOutcome(action, answer) };
    });
    // The group changed: the next send reads the members again (WhatsApp's notification may come later or not at all).
    if (results.some((result) => result.status === DONE[action])) this.cache.forget(id);
    return { results };
  }

  /**
   * `group_update`: subject, description, announce, restrict — each given one a separate WhatsApp call, in that order.
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async update(socket, params) {
    const id = groupJid(params.id);
    const subject = params.subject === undefined || params.subject === null ? undefined : checkText(params.subject, 'subject', MAX_SUBJECT_CHARS);
    const description = params.description === undefined || params.description === null
      ? undefined
      : checkText(params.description, 'description', MAX_DESCRIPTION_CHARS, { allowEmpty: true });
    for (const field of ['announce', 'restrict']) {
      if (params[field] !== undefined && params[field] !== null && typeof params[field] !== 'boolean') {
        throw new BridgeError('invalid_params', `${field} must be true or false`);
      }
    }
    if (subject === undefined && description === undefined && typeof params.announce !== 'boolean' && typeof params.restrict !== 'boolean') {
      throw new BridgeError('invalid_params', 'group_update needs subject, description, announce or restrict');
    }
    if (subject !== undefined) await run(() => socket.groupUpdateSubject(id, subject));
    // An empty description removes it (Baileys sends `delete`).
    if (description !== undefined) await run(() => socket.groupUpdateDescription(id, description || undefined));
    if (typeof params.announce === 'boolean') await run(() => socket.groupSettingUpdate(id, params.announce ? 'announcement' : 'not_announcement'));
    if (typeof params.restrict === 'boolean') await run(() => socket.groupSettingUpdate(id, params.restrict ? 'locked' : 'unlocked'));
    this.cache.applyUpdate({ id, subject, desc: description, announce: params.announce ?? undefined, restrict: params.restrict ?? undefined });
    return {};
  }

  /**
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async inviteCode(socket, params) {
    const id = groupJid(params.id);
    return { code: requireCode(await run(() => socket.groupInviteCode(id))) };
  }

  /**
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async revokeInvite(socket, params) {
    const id = groupJid(params.id);
    return { code: requireCode(await run(() => socket.groupRevokeInvite(id))) };
  }

  /**
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async acceptInvite(socket, params) {
    const { code } = params;
    if (typeof code !== 'string' || !/^[A-Za-z0-9]{6,40}$/.test(code)) throw new BridgeError('invalid_params', 'code must be an invite code (letters and digits)');
    // An unknown or revoked code: WhatsApp answers 404 (item-not-found) or 406/410; both mean "no such invite".
    const jid = await run(async () => {
      try {
        return await socket.groupAcceptInvite(code);
      } catch (error) {
        const status = whatsAppCode(error);
        if (status === 406 || status === 410) throw new BridgeError('not_found', `the invite code is not valid (anymore): ${/** @type {Error} */ (error).message}`, { statusCode: status });
        throw error;
      }
    });
    if (typeof jid !== 'string' || !jid) throw new BridgeError('send_failed', 'WhatsApp accepted the invite but named no group');
    return { id: jid };
  }

  /**
   * @param {import('baileys').WASocket} socket
   * @param {import('./sessions.js').RequestParams} params
   */
  async leave(socket, params) {
    const id = groupJid(params.id);
    await run(() => socket.groupLeave(id));
    this.cache.forget(id);
    return {};
  }
}

/** @param {unknown} code */
function requireCode(code) {
  if (typeof code !== 'string' || !code) throw new BridgeError('send_failed', 'WhatsApp answered without an invite code');
  return code;
}

/**
 * Whether WhatsApp's `<participant>` answer is about `jid`: by its own JID, or — in a LID group asked by phone — by the
 * alternate address it carries.
 * @param {{ jid?: string, content?: any }} answer
 * @param {string} jid
 */
function answerIsFor(answer, jid) {
  const attrs = answer?.content?.attrs ?? {};
  return [answer?.jid, attrs.phone_number, attrs.lid].some((candidate) => typeof candidate === 'string' && candidate.split('@')[0].split(':')[0] === jid.split('@')[0]
    && candidate.endsWith(jid.slice(jid.indexOf('@'))));
}

/**
 * One participant's outcome from WhatsApp's status code (WhatsApp Web's meanings).
 * @param {string} action
 * @param {{ status?: string, content?: any }} answer
 * @returns {{ status: string, code?: number, detail?: string, inviteCode?: string, inviteExpiration?: number }}
 */
export function participantOutcome(action, answer) {
  const code = Number(answer?.status ?? 200);
  if (code === 200) return { status: DONE[action] };
  const outcome = { code };
  switch (code) {
    case 403: {
      const request = Array.isArray(answer?.content?.content) ? answer.content.content.find((/** @type {any} */ node) => node?.tag === 'add_request') : undefined;
      if (action === 'add' && request) {
        // Their privacy settings keep us from adding them: WhatsApp made an invite for them instead.
        const expiration = Number(request.attrs?.expiration);
        return {
          status: 'invite_sent',
          ...outcome,
          detail: 'their privacy settings do not allow adding them; WhatsApp created an invite for them instead',
          inviteCode: request.attrs?.code || undefined,
          inviteExpiration: Number.isFinite(expiration) ? expiration : undefined,
        };
      }
      return { status: 'refused', ...outcome, detail: 'WhatsApp refused (their privacy settings, or this account is not an admin)' };
    }
    case 404:
      return action === 'add'
        ? { status: 'not_on_whatsapp', ...outcome, detail: 'the number is not on WhatsApp' }
        : { status: 'not_member', ...outcome, detail: 'not a member of the group' };
    case 408:
      return { status: 'recently_left', ...outcome, detail: 'they left the group recently; WhatsApp does not allow adding them back yet' };
    case 409:
      return action === 'add'
        ? { status: 'already_member', ...outcome, detail: 'already a member of the group' }
        : { status: 'not_member', ...outcome, detail: 'not a member of the group' };
    default:
      return { status: 'failed', ...outcome, detail: `WhatsApp error ${code}` };
  }
}
