// @ts-check
// Baileys' `call` and `presence.update` events as protocol events `call` and `presence`: mapped in place, no host
// round trip, so a burst of typing notifications costs one line each.

import { normalizeJid } from './jids.js';
import { withoutUndefined } from './util.js';

/** The call states the host is told about; Baileys' transport/preaccept/relaylatency are signalling noise. */
const REPORTED_CALL_STATUSES = new Set(['offer', 'ringing', 'timeout', 'reject', 'accept', 'terminate']);

/**
 * @param {import('baileys').WACallEvent} call
 */
export function describeCall(call) {
  const from = typeof call.from === 'string' ? normalizeJid(call.from) : call.from;
  const callerPn = typeof call.callerPn === 'string' && call.callerPn ? normalizeJid(call.callerPn) : undefined;
  const seconds = call.date instanceof Date ? Math.floor(call.date.getTime() / 1000) : NaN;
  return withoutUndefined({
    id: call.id,
    from,
    fromAlt: callerPn && callerPn !== from ? callerPn : undefined,
    chat: call.chatId,
    isVideo: Boolean(call.isVideo),
    isGroup: Boolean(call.isGroup),
    groupJid: call.groupJid || undefined,
    status: call.status,
    timestamp: Number.isFinite(seconds) ? seconds : Math.floor(Date.now() / 1000),
    offline: call.offline || undefined,
  });
}

/**
 * Subscribes to the call and presence events of a new socket.
 * @param {import('./event-translator.js').SocketSubscriber} on
 * @param {(event: string, data: object) => void} send sends an event of this session
 */
export function attachConversationEvents(on, send) {
  on('call', (/** @type {import('baileys').WACallEvent[]} */ calls = []) => {
    for (const call of calls) {
      if (call && REPORTED_CALL_STATUSES.has(call.status)) send('call', describeCall(call));
    }
  });
  on('presence.update', (/** @type {import('baileys').BaileysEventMap['presence.update']} */ update) => {
    for (const [participant, presence] of Object.entries(update?.presences ?? {})) {
      if (!presence?.lastKnownPresence) continue;
      send('presence', withoutUndefined({
        chat: update.id,
        from: normalizeJid(participant),
        state: presence.lastKnownPresence,
        lastSeen: typeof presence.lastSeen === 'number' && presence.lastSeen > 0 ? presence.lastSeen : undefined,
      }));
    }
  });
}
