// The conversation features of the real bridge process (src/main.js, real Baileys) against the fake WhatsApp
// server: replies, mentions, reactions, locations, contact cards, polls, edits and revokes as the contact decrypts
// them; read receipts, chat states and presence subscriptions as the server receives them; and the contact's calls
// and presence coming out as `call` and `presence` events.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proto } from 'baileys';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { spawnBridge } from '../test-support/child-bridge.js';
import { FakeHostAuthStore } from '../test-support/harness.js';
import { encryptPollVote } from '../test-support/fake-wa/poll-vote.js';

const CONTACT = '255755000001';
const CONTACT_JID = `${CONTACT}@s.whatsapp.net`;
const OTHER = '255755000002';
const SESSION = 'INST-01-0000001';
const TEST_TIMEOUT = { timeout: 90000 };
const LOGIN_WAIT = { timeoutMs: 30000 };
const { Type } = proto.Message.ProtocolMessage;

let sequence = 0;
const nextId = () => `3EB0C0FFEE${String(++sequence).padStart(10, '0')}`;

/** A real bridge child linked by QR to a fresh fake WhatsApp server, its session open. */
async function linkedBridge(t) {
  const wa = await startFakeWa({ registered: [CONTACT, { phone: OTHER }], trustRoot: false });
  const authStore = new FakeHostAuthStore();
  const bridge = spawnBridge({ authStore, env: wa.childEnv, execArgv: ['--import', TRUST_TEST_ROOT_PRELOAD] });
  t.after(async () => {
    bridge.kill();
    await wa.stop();
  });
  await bridge.waitFor((m) => m.type === 'ready', { description: 'ready' });
  const opened = await bridge.request('open', { session: SESSION, webSocketUrl: wa.url });
  assert.equal(opened.ok, true, JSON.stringify(opened));
  const qr = await bridge.waitForEvent(SESSION, 'qr', () => true, LOGIN_WAIT);
  await wa.scan(qr.data.qr);
  await bridge.waitForEvent(SESSION, 'connection', (d) => d.state === 'open', LOGIN_WAIT);
  return { wa, bridge, authStore };
}

/** Sends through the bridge and answers what the contact decrypted (and the stanza it came in). */
async function sendAndDecrypt(wa, bridge, params) {
  const messageId = nextId();
  const since = wa.decrypted.length;
  const sent = await bridge.request('send', { session: SESSION, to: CONTACT_JID, messageId, ...params });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.result.messageId, messageId);
  assert.equal(typeof sent.result.timestamp, 'number');
  const record = await wa.nextDecryptedMessage({ id: messageId, since });
  assert.equal(record.decryptError, undefined);
  return { id: messageId, message: record.message, stanza: record.stanza };
}

const inbound = (bridge, id) => bridge.waitForEvent(SESSION, 'message', (d) => d.raw.key.id === id, { timeoutMs: 20000 });

test('replies quote our own message (from the host\'s store), a contact\'s message (stub or given content), with mentions', TEST_TIMEOUT, async (t) => {
  const { wa, bridge, authStore } = await linkedBridge(t);
  const own = await sendAndDecrypt(wa, bridge, { text: 'Bei ni 5000' });

  const replyToOwn = await sendAndDecrypt(wa, bridge, { text: 'pole, 4500', quoted: { id: own.id, remoteJid: CONTACT_JID, fromMe: true } });
  const ownContext = replyToOwn.message.extendedTextMessage.contextInfo;
  assert.equal(replyToOwn.message.extendedTextMessage.text, 'pole, 4500');
  assert.equal(ownContext.stanzaId, own.id);
  assert.equal(ownContext.participant, wa.account.jid);
  assert.equal(ownContext.quotedMessage.extendedTextMessage.text, 'Bei ni 5000');
  assert.ok(authStore.calls.some((call) => call.op === 'get_message' && call.params.id === own.id), 'the quote came from the host');

  const theirs = await wa.sendText(CONTACT, 'Nataka viatu');
  await inbound(bridge, theirs.id);
  const replyToTheirs = await sendAndDecrypt(wa, bridge, { text: 'Karibu', quoted: { id: theirs.id, remoteJid: CONTACT_JID, fromMe: false } });
  const stubContext = replyToTheirs.message.extendedTextMessage.contextInfo;
  assert.equal(stubContext.stanzaId, theirs.id);
  assert.equal(stubContext.participant, CONTACT_JID);
  assert.equal(stubContext.quotedMessage.conversation, '');

  const content = Buffer.from(proto.Message.encode({ conversation: 'Nataka viatu' }).finish()).toString('base64');
  const withContent = await sendAndDecrypt(wa, bridge, {
    text: 'Karibu @255755000002',
    quoted: { id: theirs.id, remoteJid: CONTACT_JID, fromMe: false, content },
    mentions: [`${OTHER}@s.whatsapp.net`],
  });
  const context = withContent.message.extendedTextMessage.contextInfo;
  assert.equal(context.quotedMessage.conversation, 'Nataka viatu');
  assert.equal(context.stanzaId, theirs.id);
  assert.deepEqual(context.mentionedJid, [`${OTHER}@s.whatsapp.net`]);
});

test('a reaction, an edit and a revoke reach the contact as reactionMessage and protocolMessage 14 / 0', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const theirs = await wa.sendText(CONTACT, 'Asante');
  await inbound(bridge, theirs.id);
  const theirKey = { id: theirs.id, remoteJid: CONTACT_JID, fromMe: false };

  const reaction = await sendAndDecrypt(wa, bridge, { reaction: { key: theirKey, emoji: '👍' } });
  assert.equal(reaction.message.reactionMessage.text, '👍');
  assert.equal(reaction.message.reactionMessage.key.id, theirs.id);
  assert.equal(reaction.message.reactionMessage.key.fromMe, false);
  const removed = await sendAndDecrypt(wa, bridge, { reaction: { key: theirKey, emoji: '' } });
  assert.equal(removed.message.reactionMessage.text, '');

  const own = await sendAndDecrypt(wa, bridge, { text: 'Bei ni 5000' });
  const ownKey = { id: own.id, remoteJid: CONTACT_JID, fromMe: true };
  const edit = await sendAndDecrypt(wa, bridge, { edit: { key: ownKey, text: 'Bei ni 4500' } });
  assert.equal(edit.message.protocolMessage.type, Type.MESSAGE_EDIT);
  assert.equal(edit.message.protocolMessage.type, 14);
  assert.equal(edit.message.protocolMessage.key.id, own.id);
  assert.equal(edit.message.protocolMessage.editedMessage.extendedTextMessage.text, 'Bei ni 4500');
  assert.equal(edit.stanza.attrs.edit, '1');

  const revoke = await sendAndDecrypt(wa, bridge, { delete: { key: ownKey } });
  assert.equal(revoke.message.protocolMessage.type ?? 0, Type.REVOKE);
  assert.equal(revoke.message.protocolMessage.key.id, own.id);
  assert.equal(revoke.stanza.attrs.edit, '7');
});

test('a location and contact cards (one, several) reach the contact; the vCards carry the numbers as waid', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const location = await sendAndDecrypt(wa, bridge, { location: { latitude: -6.7924, longitude: 39.2083, name: 'Duka', address: 'Kariakoo, Dar es Salaam' } });
  assert.equal(location.message.locationMessage.degreesLatitude, -6.7924);
  assert.equal(location.message.locationMessage.degreesLongitude, 39.2083);
  assert.equal(location.message.locationMessage.name, 'Duka');
  assert.equal(location.message.locationMessage.address, 'Kariakoo, Dar es Salaam');

  const one = await sendAndDecrypt(wa, bridge, { contacts: [{ name: 'Mama Neema; Duka', number: '+255755000002' }] });
  assert.equal(one.message.contactMessage.displayName, 'Mama Neema; Duka');
  assert.match(one.message.contactMessage.vcard, /^BEGIN:VCARD\nVERSION:3\.0\n/);
  assert.match(one.message.contactMessage.vcard, /\nFN:Mama Neema\\; Duka\n/);
  assert.match(one.message.contactMessage.vcard, /\nTEL;type=CELL;type=VOICE;waid=255755000002:\+255755000002\n/);

  const several = await sendAndDecrypt(wa, bridge, { contacts: [{ name: 'Neema', number: '255755000002' }, { name: 'Juma', number: '255755000003' }] });
  assert.equal(several.message.contactsArrayMessage.displayName, '2 contacts');
  assert.deepEqual(several.message.contactsArrayMessage.contacts.map((contact) => contact.displayName), ['Neema', 'Juma']);
  assert.match(several.message.contactsArrayMessage.contacts[1].vcard, /waid=255755000003:\+255755000003/);
});

test('a poll reaches the contact with its options and a messageSecret, and the contact\'s vote on it decrypts', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const poll = await sendAndDecrypt(wa, bridge, { poll: { name: 'Siku gani?', options: ['Jumatatu', 'Jumanne', 'Ijumaa'], selectableCount: 0 } });
  const creation = poll.message.pollCreationMessage;
  assert.equal(creation.name, 'Siku gani?');
  assert.deepEqual(creation.options.map((option) => option.optionName), ['Jumatatu', 'Jumanne', 'Ijumaa']);
  assert.equal(creation.selectableOptionsCount, 0);
  const secret = poll.message.messageContextInfo.messageSecret;
  assert.equal(secret.length, 32);
  assert.equal(poll.stanza.content.find((node) => node.tag === 'meta')?.attrs.polltype, 'creation');

  const single = await sendAndDecrypt(wa, bridge, { poll: { name: 'Moja tu?', options: ['Ndiyo', 'Hapana'], selectableCount: 1 } });
  assert.equal(single.message.pollCreationMessageV3.selectableOptionsCount, 1);

  const vote = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    pollUpdateMessage: {
      pollCreationMessageKey: { remoteJid: wa.account.jid, fromMe: false, id: poll.id },
      vote: encryptPollVote(['Ijumaa'], { pollMsgId: poll.id, pollCreatorJid: wa.account.jid, voterJid: CONTACT_JID, pollEncKey: Buffer.from(secret) }),
      senderTimestampMs: Date.now(),
    },
  }));
  const voted = await inbound(bridge, vote.id);
  assert.deepEqual(voted.data.pollVote, { pollId: poll.id, decrypted: true, selectedHashes: voted.data.pollVote.selectedHashes, selectedOptions: ['Ijumaa'] });
});

test('read sends a read receipt; presence sends a chat state; subscribe asks for the contact\'s presence', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const theirs = await wa.sendText(CONTACT, 'Habari');
  await inbound(bridge, theirs.id);

  const read = await bridge.request('read', { session: SESSION, keys: [{ id: theirs.id, remoteJid: CONTACT_JID }] });
  assert.deepEqual(read, { type: 'response', id: read.id, ok: true, result: {} });
  const receipt = await wa.waitForNode((node) => node.tag === 'receipt' && node.attrs.type === 'read' && node.attrs.id === theirs.id);
  assert.equal(receipt.attrs.to, CONTACT_JID);

  assert.equal((await bridge.request('presence', { session: SESSION, to: CONTACT_JID, state: 'composing' })).ok, true);
  const chatState = await wa.waitForNode((node) => node.tag === 'chatstate' && node.attrs.to === CONTACT_JID);
  assert.equal(chatState.content[0].tag, 'composing');

  assert.deepEqual((await bridge.request('subscribe', { session: SESSION, to: CONTACT_JID })).result, {});
  const subscribe = await wa.waitForNode((node) => node.tag === 'presence' && node.attrs.type === 'subscribe');
  assert.equal(subscribe.attrs.to, CONTACT_JID);
});

test('a contact\'s call and presence come out as call and presence events', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const { callId } = wa.sendCall({ from: CONTACT, status: 'offer', video: true });
  const offer = await bridge.waitForEvent(SESSION, 'call', (d) => d.id === callId && d.status === 'offer', { timeoutMs: 20000 });
  assert.equal(offer.data.from, CONTACT_JID);
  assert.equal(offer.data.isVideo, true);
  assert.equal(offer.data.isGroup, false);
  assert.ok(Math.abs(offer.data.timestamp - Date.now() / 1000) < 60, String(offer.data.timestamp));
  wa.sendCall({ from: CONTACT, callId, status: 'timeout' });
  const missed = await bridge.waitForEvent(SESSION, 'call', (d) => d.id === callId && d.status === 'timeout', { timeoutMs: 20000 });
  assert.equal(missed.data.isVideo, true, 'the offer\'s details carry over to its end');

  const lidCall = wa.sendCall({ from: CONTACT, status: 'offer', addressing: 'lid' });
  const lidOffer = await bridge.waitForEvent(SESSION, 'call', (d) => d.id === lidCall.callId, { timeoutMs: 20000 });
  assert.match(lidOffer.data.from, /@lid$/);
  assert.equal(lidOffer.data.fromAlt, CONTACT_JID);
  assert.equal(lidOffer.data.isVideo, false);

  wa.sendPresence({ from: CONTACT, type: 'unavailable', last: 1764288000 });
  const away = await bridge.waitForEvent(SESSION, 'presence', (d) => d.state === 'unavailable', { timeoutMs: 20000 });
  assert.deepEqual(away.data, { chat: CONTACT_JID, from: CONTACT_JID, state: 'unavailable', lastSeen: 1764288000 });
  wa.sendChatState({ from: CONTACT, state: 'composing' });
  const typing = await bridge.waitForEvent(SESSION, 'presence', (d) => d.state === 'composing', { timeoutMs: 20000 });
  assert.deepEqual(typing.data, { chat: CONTACT_JID, from: CONTACT_JID, state: 'composing' });
  wa.sendChatState({ from: CONTACT, state: 'recording' });
  await bridge.waitForEvent(SESSION, 'presence', (d) => d.state === 'recording', { timeoutMs: 20000 });
});

test('inbound locations, contact cards, polls, replies and mentions reach the host in raw at the documented paths', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const location = await wa.sendMessage(CONTACT, { locationMessage: { degreesLatitude: -6.7924, degreesLongitude: 39.2083, name: 'Duka', address: 'Kariakoo' } });
  const raw = async (id) => (await inbound(bridge, id)).data.raw;
  assert.deepEqual((await raw(location.id)).message.locationMessage, { degreesLatitude: -6.7924, degreesLongitude: 39.2083, name: 'Duka', address: 'Kariakoo' });

  const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Neema\nTEL;type=CELL;waid=255755000002:+255755000002\nEND:VCARD';
  const card = await wa.sendMessage(CONTACT, { contactMessage: { displayName: 'Neema', vcard } });
  assert.deepEqual((await raw(card.id)).message.contactMessage, { displayName: 'Neema', vcard });
  const cards = await wa.sendMessage(CONTACT, { contactsArrayMessage: { displayName: '2 contacts', contacts: [{ displayName: 'Neema', vcard }, { displayName: 'Juma', vcard }] } });
  const array = (await raw(cards.id)).message.contactsArrayMessage;
  assert.equal(array.displayName, '2 contacts');
  assert.equal(array.contacts[1].vcard, vcard);

  const poll = await wa.sendMessage(CONTACT, {
    pollCreationMessageV3: { name: 'Chakula?', options: [{ optionName: 'Wali' }, { optionName: 'Ugali' }], selectableOptionsCount: 1 },
    messageContextInfo: { messageSecret: Buffer.alloc(32, 7) },
  });
  const pollRaw = await raw(poll.id);
  assert.equal(pollRaw.message.pollCreationMessageV3.name, 'Chakula?');
  assert.deepEqual(pollRaw.message.pollCreationMessageV3.options, [{ optionName: 'Wali' }, { optionName: 'Ugali' }]);
  assert.equal(pollRaw.message.pollCreationMessageV3.selectableOptionsCount, 1);
  assert.equal(pollRaw.message.messageContextInfo.messageSecret.type, 'Buffer');

  const reply = await wa.sendMessage(CONTACT, {
    extendedTextMessage: {
      text: 'Ndiyo @255755000002',
      contextInfo: {
        stanzaId: poll.id,
        participant: CONTACT_JID,
        quotedMessage: { conversation: 'Chakula?' },
        mentionedJid: [`${OTHER}@s.whatsapp.net`],
      },
    },
  });
  const context = (await raw(reply.id)).message.extendedTextMessage.contextInfo;
  assert.equal(context.stanzaId, poll.id);
  assert.equal(context.participant, CONTACT_JID);
  assert.deepEqual(context.quotedMessage, { conversation: 'Chakula?' });
  assert.deepEqual(context.mentionedJid, [`${OTHER}@s.whatsapp.net`]);
});
