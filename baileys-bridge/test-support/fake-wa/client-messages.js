// What the client sends: every node is recorded (`wa.received`); IQs are answered (iq-answers.js); `message`
// stanzas are acked (or refused with a configured error) and decrypted by each recipient device the server plays,
// into `wa.decrypted`.

import { SERVER_JID } from './directory.js';
import { answerIq } from './iq-answers.js';
import { decryptMedia, MEDIA_FIELDS } from './media.js';
import { bytes, child, children, nowSeconds } from './nodes.js';

/** `onNode` of a FakeConnection. */
export async function handleClientNode(wa, connection, node) {
  const entry = { connection: connection.id, node, at: Date.now() };
  wa.received.push(entry);
  wa.emit('client-node', entry);
  if (wa.silent) return;
  switch (node.tag) {
    case 'iq':
      if (node.attrs.type === 'get' || node.attrs.type === 'set') await answerIq(wa, connection, node);
      return;
    case 'message':
      await receiveClientMessage(wa, connection, node);
      return;
    case 'receipt':
      connection.sendNode({ tag: 'ack', attrs: { class: 'receipt', id: node.attrs.id, from: node.attrs.to ?? SERVER_JID } });
      return;
    default:
      // ack, presence, chatstate, ib (unified_session, offline_batch), call: recorded only
      return;
  }
}

/**
 * A `message` stanza from the client: acked (or refused with a configured error), then every `enc` for a
 * device the server plays is decrypted by that device's Signal party and recorded in `decrypted`.
 */
async function receiveClientMessage(wa, connection, stanza) {
  const { id, to } = stanza.attrs;
  const ackError = wa.ackErrors.find((rule) => rule.match(stanza));
  if (ackError) {
    if (ackError.once) wa.ackErrors.splice(wa.ackErrors.indexOf(ackError), 1);
    connection.sendNode({ tag: 'ack', attrs: { class: 'message', id, from: to, t: String(nowSeconds()), error: String(ackError.code) } });
    wa.emit('refused-send', { id, to, code: ackError.code, stanza });
    return;
  }
  connection.sendNode({ tag: 'ack', attrs: { class: 'message', id, from: to, t: String(nowSeconds()) } });

  const targets = [];
  const participants = child(stanza, 'participants');
  if (participants) {
    for (const target of children(participants, 'to')) {
      const enc = child(target, 'enc');
      if (enc) targets.push({ jid: target.attrs.jid, enc });
    }
  }
  // A resend to one device after a retry receipt carries its `enc` directly, addressed to that device.
  for (const enc of children(stanza, 'enc')) targets.push({ jid: to, enc });

  const senderJid = connection.device?.jid;
  for (const { jid, enc } of targets) {
    const party = wa.directory.partyFor(jid);
    const record = {
      id,
      to,
      recipient: jid,
      toOwnDevice: wa.directory.isAccountUser(jid),
      encType: enc.attrs.type,
      retryCount: enc.attrs.count ? Number(enc.attrs.count) : 0,
      stanza,
      at: Date.now(),
    };
    if (!party) {
      record.undeliverable = true;
      wa.emit('undeliverable', record);
      continue;
    }
    try {
      const message = await party.decrypt(senderJid, enc.attrs.type, bytes(enc));
      record.message = message;
      const content = message.deviceSentMessage?.message ?? message;
      record.text = content.conversation ?? content.extendedTextMessage?.text ?? undefined;
      attachMedia(wa, record, content);
    } catch (error) {
      record.decryptError = error;
    }
    wa.decrypted.push(record);
    wa.emit('client-message', record);
  }
}

/** Downloads and decrypts the media of a message the client sent, as its recipient would. */
function attachMedia(wa, record, content) {
  const field = Object.keys(MEDIA_FIELDS).find((name) => content[name]);
  if (!field) return;
  const media = content[field];
  record.mediaType = MEDIA_FIELDS[field];
  if (!wa.media) {
    record.mediaError = new Error('no media host');
    return;
  }
  const file = wa.media.get(media.directPath || media.url || '');
  if (!file) {
    record.mediaError = new Error(wa.media.keepUploads ? `no uploaded file at ${media.directPath}` : 'uploads are not kept');
    return;
  }
  try {
    record.media = decryptMedia(file, media.mediaKey, record.mediaType);
  } catch (error) {
    record.mediaError = error;
  }
}
