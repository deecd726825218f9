// @ts-check
// What the bridge reads out of message contents beyond media: poll votes, which WhatsApp encrypts with the poll's
// own secret (Baileys rc14 does not decrypt them: its handler is commented out in Utils/process-message.js).

import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { decryptPollVote, jidNormalizedUser, normalizeMessageContent } from 'baileys';

/** How many polls (their secret and option names) a session remembers from the messages it saw. */
const REMEMBERED_POLLS = 1000;

/** @type {readonly ('pollCreationMessage' | 'pollCreationMessageV2' | 'pollCreationMessageV3' | 'pollCreationMessageV5')[]} */
const POLL_CREATION_FIELDS = ['pollCreationMessage', 'pollCreationMessageV2', 'pollCreationMessageV3', 'pollCreationMessageV5'];

/** @typedef {import('baileys').proto.IMessage} IMessage */
/** @typedef {import('baileys').WAMessageKey} MessageKey */
/** @typedef {{ options: string[], secret: Buffer | undefined }} Poll */
/** @typedef {{ pollId: string | undefined, decrypted: boolean, selectedHashes?: string[], selectedOptions?: string[] }} PollVote */

/**
 * The poll a message creates, or undefined.
 * @param {IMessage | null | undefined} message
 * @returns {Poll | undefined}
 */
function pollOf(message) {
  const content = normalizeMessageContent(message);
  if (!content) return undefined;
  const poll = POLL_CREATION_FIELDS.map((field) => content[field]).find(Boolean);
  if (!poll) return undefined;
  const secret = content.messageContextInfo?.messageSecret ?? message?.messageContextInfo?.messageSecret;
  return {
    options: (poll.options ?? []).map((option) => option?.optionName).filter((name) => typeof name === 'string'),
    secret: secret && secret.length ? Buffer.from(secret) : undefined,
  };
}

/** @param {string} value */
const sha256Hex = (value) => createHash('sha256').update(value).digest('hex');

/**
 * Decrypts poll votes. A poll is known when this session saw its creation (inbound or echoed), or when the host
 * has it as a message we sent (`loadSent`, the `get_message` store); the vote of an unknown poll stays encrypted.
 */
export class PollVotes {
  /** @param {(key: MessageKey) => Promise<IMessage | undefined>} loadSent the sent message's proto.Message, if the host has it */
  constructor(loadSent) {
    this.loadSent = loadSent;
    /** @type {Map<string, Poll>} insertion order: the oldest poll is forgotten first */
    this.polls = new Map();
  }

  /**
   * Remembers the poll a message creates, so that later votes on it can be decrypted.
   * @param {import('baileys').WAMessage} message
   */
  remember(message) {
    const id = message?.key?.id;
    const poll = id ? pollOf(message.message) : undefined;
    if (id && poll?.secret) this.#keep(id, poll);
  }

  /**
   * @param {string} id
   * @param {Poll} poll
   */
  #keep(id, poll) {
    this.polls.delete(id);
    this.polls.set(id, poll);
    while (this.polls.size > REMEMBERED_POLLS) this.polls.delete(/** @type {string} */ (this.polls.keys().next().value));
  }

  /**
   * The `pollVote` of a `message` event for a poll vote, undefined for other messages:
   * `{ pollId, decrypted, selectedOptions?: [names], selectedHashes?: [sha256 hex] }`. Options whose name is unknown
   * are reported by hash only.
   * @param {import('baileys').WAMessage} message
   * @param {{ id?: string, lid?: string } | undefined} me the account, whose jids may be the poll creator's
   * @returns {Promise<PollVote | undefined>}
   */
  async describe(message, me) {
    const update = normalizeMessageContent(message?.message)?.pollUpdateMessage;
    if (!update) return undefined;
    /** @type {MessageKey} */
    const creationKey = update.pollCreationMessageKey ?? {};
    const pollId = creationKey.id ?? undefined;
    /** @type {PollVote} */
    const result = { pollId, decrypted: false };
    if (!pollId || !update.vote?.encPayload || !update.vote?.encIv) return result;
    const poll = this.polls.get(pollId) ?? (await this.#loadOwnPoll(creationKey));
    if (!poll?.secret) return result;

    const selected = this.#decrypt(update.vote, pollId, poll.secret, creatorJids(creationKey, message.key, me), voterJids(message.key, me));
    if (!selected) return result;
    const hashes = selected.map((hash) => Buffer.from(hash).toString('hex'));
    const names = new Map(poll.options.map((name) => [sha256Hex(name), name]));
    result.decrypted = true;
    result.selectedHashes = hashes;
    result.selectedOptions = hashes.map((hash) => names.get(hash)).filter((name) => name !== undefined);
    return result;
  }

  /**
   * A poll we sent: the host keeps every sent message (Baileys' `getMessage` store); undefined for anything else.
   * @param {MessageKey} key
   */
  async #loadOwnPoll(key) {
    const message = await this.loadSent(key);
    const poll = message ? pollOf(message) : undefined;
    if (key.id && poll?.secret) this.#keep(key.id, poll);
    return poll;
  }

  /**
   * The voter's phone signs with the jids it addresses the creator and itself by (a phone number or a LID, depending
   * on the chat's addressing), which the receiving side cannot know for sure: every pair is tried, and AES-GCM
   * authentication tells the right one.
   * @param {import('baileys').proto.Message.IPollEncValue} vote
   * @param {string} pollMsgId
   * @param {Buffer} pollEncKey
   * @param {string[]} creators
   * @param {string[]} voters
   * @returns {Uint8Array[] | undefined}
   */
  #decrypt(vote, pollMsgId, pollEncKey, creators, voters) {
    for (const pollCreatorJid of creators) {
      for (const voterJid of voters) {
        try {
          return decryptPollVote(vote, { pollCreatorJid, pollMsgId, pollEncKey, voterJid }).selectedOptions ?? [];
        } catch {
          // wrong pair: the GCM tag does not match
        }
      }
    }
    return undefined;
  }
}

/** @param {unknown} jid */
function normalized(jid) {
  if (typeof jid !== 'string' || !jid) return undefined;
  try {
    return jidNormalizedUser(jid) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {unknown[]} jids
 * @returns {string[]}
 */
const unique = (jids) => [...new Set(jids.map(normalized).filter((jid) => jid !== undefined))];

/**
 * @param {MessageKey} creationKey
 * @param {MessageKey | undefined} voteKey
 * @param {{ id?: string, lid?: string } | undefined} me
 */
function creatorJids(creationKey, voteKey, me) {
  const mine = [me?.id, me?.lid];
  const theirs = [creationKey.participant, creationKey.remoteJid, voteKey?.remoteJidAlt, voteKey?.participantAlt];
  return unique(creationKey.fromMe ? [...mine, ...theirs] : [...theirs, ...mine]);
}

/**
 * @param {MessageKey | undefined} key
 * @param {{ id?: string, lid?: string } | undefined} me
 */
function voterJids(key, me) {
  if (key?.fromMe) return unique([me?.id, me?.lid]);
  return unique([key?.participant, key?.participantAlt, key?.remoteJid, key?.remoteJidAlt]);
}
