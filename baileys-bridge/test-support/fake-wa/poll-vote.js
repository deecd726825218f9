// What a voter's phone does with a poll vote: the inverse of Baileys' decryptPollVote (Utils/process-message.js).
// The key comes from the poll's messageSecret; ids and jids are bound in as HMAC input and AES-GCM additional data.

import { createHash, randomBytes } from 'node:crypto';
import { aesEncryptGCM, hmacSign, proto } from 'baileys';

/**
 * @param {string[]} selectedNames option names the voter picks (empty withdraws the vote)
 * @param {{ pollMsgId: string, pollCreatorJid: string, voterJid: string, pollEncKey: Uint8Array }} context
 * @returns {{ encPayload: Buffer, encIv: Buffer }} the `vote` of a pollUpdateMessage
 */
export function encryptPollVote(selectedNames, { pollMsgId, pollCreatorJid, voterJid, pollEncKey }) {
  const sign = Buffer.concat([Buffer.from(pollMsgId), Buffer.from(pollCreatorJid), Buffer.from(voterJid), Buffer.from('Poll Vote'), new Uint8Array([1])]);
  const key0 = hmacSign(pollEncKey, new Uint8Array(32), 'sha256');
  const encKey = hmacSign(sign, key0, 'sha256');
  const plaintext = proto.Message.PollVoteMessage.encode({
    selectedOptions: selectedNames.map((name) => createHash('sha256').update(name).digest()),
  }).finish();
  const encIv = randomBytes(12);
  return { encPayload: aesEncryptGCM(plaintext, encKey, encIv, Buffer.from(`${pollMsgId}\u0000${voterJid}`)), encIv };
}
