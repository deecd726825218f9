// @ts-check
// Requests that act on a chat rather than send a message: `read` (read receipts), `delete_for_me` (an app-state
// patch on our own devices) and `subscribe` (ask WhatsApp for a contact's presence updates).

import { BridgeError } from './protocol.js';
import { parseKey } from './conversation-content.js';
import { sendFailed } from './send-acks.js';

/** One `read` covers at most this many messages (WhatsApp groups them into one receipt per chat and sender). */
const MAX_READ_KEYS = 1000;

/**
 * `read` `{ keys: [{ id, remoteJid, participant? }] }`: read receipts for messages others sent us.
 * @param {import('baileys').WASocket} socket
 * @param {import('./sessions.js').RequestParams} params
 */
export async function readMessages(socket, params) {
  const { keys } = params;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_READ_KEYS) {
    throw new BridgeError('invalid_params', `keys must be an array of 1 to ${MAX_READ_KEYS} message keys {id, remoteJid, participant?}`);
  }
  // Baileys only sends receipts for keys that are not fromMe; a read receipt for our own message means nothing.
  const parsed = keys.map((key, index) => ({ ...parseKey(key, `keys[${index}]`, { fromMe: false }), fromMe: false }));
  await run(() => socket.readMessages(parsed));
  return {};
}

/**
 * `delete_for_me` `{ key, timestamp, deleteMedia? }`: the message disappears from our own devices only.
 * @param {import('baileys').WASocket} socket
 * @param {import('./sessions.js').RequestParams} params
 */
export async function deleteForMe(socket, params) {
  const key = parseKey(params.key, 'key');
  const { timestamp } = params;
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp <= 0) {
    throw new BridgeError('invalid_params', 'timestamp must be the message\'s timestamp in unix seconds');
  }
  const deleteMedia = params.deleteMedia ?? false;
  if (typeof deleteMedia !== 'boolean') throw new BridgeError('invalid_params', 'deleteMedia must be true or false');
  await run(() => socket.chatModify({ deleteForMe: { deleteMedia, key, timestamp } }, /** @type {string} */ (key.remoteJid)));
  return {};
}

/**
 * `subscribe` `{ to }`: WhatsApp then sends the contact's presence (online, last seen, typing) as `presence` events.
 * @param {import('baileys').WASocket} socket
 * @param {import('./sessions.js').RequestParams} params
 */
export async function subscribePresence(socket, params) {
  if (typeof params.to !== 'string' || !params.to.includes('@')) throw new BridgeError('invalid_params', 'to must be a JID');
  await run(() => socket.presenceSubscribe(params.to));
  return {};
}

/** @param {() => Promise<unknown>} action */
async function run(action) {
  try {
    await action();
  } catch (error) {
    throw sendFailed(error);
  }
}
