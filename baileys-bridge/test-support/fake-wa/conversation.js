// What a contact's phone signals besides messages: call offers and their end, presence (online, last seen) and chat
// states (typing, recording), as WhatsApp sends them to a linked device.

import { SERVER_JID } from './directory.js';
import { newId, nowSeconds } from './nodes.js';

/** The contact's jid as WhatsApp addresses it to us: its phone JID (or LID with `addressing: 'lid'`). */
function contactJid(wa, from, addressing = 'pn') {
  const contact = wa.directory.contact(from);
  if (!contact) throw new Error(`fake WhatsApp: ${from} is not a registered contact`);
  return addressing === 'lid' && contact.lidJid ? { jid: contact.lidJid, pn: contact.jid } : { jid: contact.jid, pn: contact.jid };
}

/**
 * `wa.sendCall({ from, callId, status, video, addressing })`: a `<call>` stanza with one child, `offer` (with
 * `<audio>` and, for a video call, `<video>`), `terminate` (reason `timeout` when `status: 'timeout'`), `reject` or
 * `accept`. A LID-addressed call carries the caller's phone number as `caller_pn`.
 * @returns {{ id: string, callId: string }}
 */
export function sendCall(wa, { from, callId = newId(), status = 'offer', video = false, addressing = 'pn', connection = wa.liveConnection() }) {
  const { jid, pn } = contactJid(wa, from, addressing);
  const infoAttrs = { 'call-id': callId, 'call-creator': jid };
  if (jid !== pn) infoAttrs.caller_pn = pn;
  let info;
  if (status === 'offer') {
    const media = [{ tag: 'audio', attrs: { enc: 'opus', rate: '16000' } }];
    if (video) media.push({ tag: 'video', attrs: { enc: 'vp8', dec: 'vp8' } });
    info = { tag: 'offer', attrs: infoAttrs, content: media };
  } else if (status === 'timeout' || status === 'terminate') {
    info = { tag: 'terminate', attrs: { ...infoAttrs, ...(status === 'timeout' ? { reason: 'timeout' } : {}) } };
  } else {
    info = { tag: status, attrs: infoAttrs };
  }
  const id = newId();
  connection.sendNode({ tag: 'call', attrs: { from: jid, id, t: String(nowSeconds()) }, content: [info] });
  return { id, callId };
}

/**
 * `wa.sendPresence({ from, type, last })`: `<presence from type="available|unavailable" last?>`, as WhatsApp sends it
 * to a device that subscribed; `wa.sendChatState({ from, state })`: `<chatstate from><composing|paused/></chatstate>`
 * (`recording` is `<composing media="audio"/>`).
 */
export function sendPresence(wa, { from, type = 'available', last, connection = wa.liveConnection() }) {
  const attrs = { from: contactJid(wa, from).jid, type };
  if (last !== undefined) attrs.last = String(last);
  connection.sendNode({ tag: 'presence', attrs });
}

export function sendChatState(wa, { from, state = 'composing', connection = wa.liveConnection() }) {
  const child = state === 'recording' ? { tag: 'composing', attrs: { media: 'audio' } } : { tag: state, attrs: {} };
  connection.sendNode({ tag: 'chatstate', attrs: { from: contactJid(wa, from).jid, to: SERVER_JID }, content: [child] });
}
