// What contacts (and the account's phone) send to the linked device: messages encrypted by their Signal party,
// media stored on the media host, and receipts for the messages the client sent.

import { SERVER_JID } from './directory.js';
import { encodeBigEndian } from './crypto.js';
import { encryptMedia, MEDIA_FIELDS } from './media.js';
import { newId, nowSeconds } from './nodes.js';
import { randomMessageId } from './signal-party.js';

/** `wa.sendMessage(from, message, options)`: resolves with the stanza sent. */
export async function sendMessage(wa, from, message, options = {}) {
  const connection = options.connection ?? wa.liveConnection();
  const node = await buildMessageNode(wa, from, message, { ...options, device: connection.device });
  connection.sendNode(node);
  return { id: node.attrs.id, node };
}

/** `wa.sendMedia(from, media, options)`: the media is encrypted, put on the media host and referenced by URL. */
export async function sendMedia(wa, from, { type, field: wanted, bytes, mimetype = 'application/octet-stream', missing = false, fields = {} }, options = {}) {
  if (!wa.media) throw new Error('fake WhatsApp: start it with { media: true } to send media');
  const field = wanted && MEDIA_FIELDS[wanted] === type ? wanted : Object.keys(MEDIA_FIELDS).find((name) => MEDIA_FIELDS[name] === type);
  if (!field) throw new Error(`fake WhatsApp: unknown media type ${type}`);
  const encrypted = encryptMedia(bytes, type);
  const { url } = missing ? { url: `${wa.media.httpBase}/v/t62.7114-24/missing-${newId()}.enc` } : wa.media.put(encrypted.file);
  const content = {
    url,
    mimetype,
    mediaKey: encrypted.mediaKey,
    fileSha256: encrypted.fileSha256,
    fileEncSha256: encrypted.fileEncSha256,
    fileLength: encrypted.fileLength,
    mediaKeyTimestamp: nowSeconds(),
    ...fields,
  };
  return sendMessage(wa, from, { [field]: content }, { type: 'media', ...options });
}

/** The encrypted `message` stanza a contact's phone sends to `device` (a linked companion record). */
export async function buildMessageNode(wa, from, message, { id = randomMessageId(), addressing = 'pn', offline, attrs = {}, device, type = 'text' } = {}) {
  const target = device ?? wa.liveConnection().device;
  const fromAccount = wa.directory.isAccountUser(from.includes('@') ? from : `${from}@${SERVER_JID}`);
  const sender = fromAccount ? null : wa.directory.contact(from);
  if (!fromAccount && !sender) throw new Error(`fake WhatsApp: ${from} is not a registered contact`);
  const party = fromAccount ? wa.account.phoneParty : sender.party;
  if (!party.hasSession(target.jid)) {
    await party.startSession(target.jid, wa.directory.takeCompanionBundle(target));
  }
  const { type: encType, ciphertext } = await party.encrypt(target.jid, message);
  const stanzaAttrs = { id, t: String(nowSeconds()), type };
  if (fromAccount) {
    stanzaAttrs.from = wa.account.jid;
  } else if (addressing === 'lid' && sender.lidJid) {
    Object.assign(stanzaAttrs, { from: sender.lidJid, sender_pn: sender.jid, addressing_mode: 'lid' });
  } else {
    stanzaAttrs.from = sender.jid;
    if (sender.lidJid) stanzaAttrs.sender_lid = sender.lidJid;
  }
  if (!fromAccount) stanzaAttrs.notify = sender.name;
  if (offline) stanzaAttrs.offline = '1';
  Object.assign(stanzaAttrs, attrs);
  return {
    tag: 'message',
    attrs: stanzaAttrs,
    content: [{ tag: 'enc', attrs: { v: '2', type: encType }, content: ciphertext }],
  };
}

/** `wa.sendReceipt(options)`: delivery, `read`, `played` or `retry` for a message the client sent. */
export function sendReceipt(wa, { from, id, type, count = 1, keys, connection = wa.liveConnection() }) {
  const ids = Array.isArray(id) ? id : [id];
  const contact = wa.directory.contact(from);
  const fromJid = contact ? contact.jid : from;
  const attrs = { from: fromJid, id: ids[0], t: String(nowSeconds()) };
  if (type) attrs.type = type;
  const content = [];
  if (type === 'retry') {
    const party = contact?.party;
    content.push({ tag: 'retry', attrs: { count: String(count), id: ids[0], t: attrs.t, v: '1' } });
    content.push({ tag: 'registration', attrs: {}, content: encodeBigEndian(party?.registrationId ?? 0, 4) });
    // From the second attempt on, a device sends a fresh key bundle so the sender can start a new session.
    if (party && (keys ?? count > 1)) {
      const bundle = party.keyBundleNode(fromJid).content.filter((node) => node.tag !== 'registration');
      content.push({ tag: 'keys', attrs: {}, content: bundle });
    }
  } else if (ids.length > 1) {
    content.push({ tag: 'list', attrs: {}, content: ids.slice(1).map((itemId) => ({ tag: 'item', attrs: { id: itemId } })) });
  }
  connection.sendNode({ tag: 'receipt', attrs, content: content.length ? content : undefined });
}
