// The real bridge process and real Baileys against the fake WhatsApp server: what the host gets for round video
// notes, reactions, edits, revokes and poll votes, built with Baileys' own proto types and encrypted by the contact.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { proto } from 'baileys';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { spawnBridge } from '../test-support/child-bridge.js';
import { FakeHostAuthStore } from '../test-support/harness.js';
import { encryptPollVote } from '../test-support/fake-wa/poll-vote.js';

const CONTACT = '255755000001';
const CONTACT_JID = `${CONTACT}@s.whatsapp.net`;
const SESSION = 'INST-01-0000001';
const TEST_TIMEOUT = { timeout: 90000 };

async function linkedBridge(t, wa, authStore = new FakeHostAuthStore()) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-types-'));
  const bridge = spawnBridge({ authStore, nodeArgs: ['--import', TRUST_TEST_ROOT_PRELOAD], env: { ...wa.childEnv, WAPBRIDGE_BRIDGE_DATA_DIR: dataDir } });
  t.after(() => {
    bridge.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await bridge.waitFor((m) => m.type === 'ready');
  const response = await bridge.request('open', { session: SESSION, webSocketUrl: wa.url }, { timeoutMs: 20000 });
  assert.equal(response.ok, true, JSON.stringify(response));
  const qr = await bridge.waitForEvent(SESSION, 'qr', () => true, { timeoutMs: 20000 });
  await wa.scan(qr.data.qr);
  await bridge.waitFor((m) => m.type === 'event' && m.event === 'connection' && m.data.state === 'open', { timeoutMs: 20000 });
  return bridge;
}

const messageWithId = (bridge, id) => bridge.waitForEvent(SESSION, 'message', (d) => d.raw.key.id === id, { timeoutMs: 20000 });

/**
 * The C# mapper tests read these events as fixtures (WapBridge.Tests/Engines/Baileys/Fixtures): set
 * WAPBRIDGE_WRITE_FIXTURES to that folder to record them again.
 */
function record(name, event) {
  const folder = process.env.WAPBRIDGE_WRITE_FIXTURES;
  if (folder) writeFileSync(path.join(folder, `${name}.json`), JSON.stringify(event.data, null, 2) + '\n');
  return event;
}

test('reactions, edits and revokes reach the host as the contact sent them', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT] });
  t.after(() => wa.stop());
  const bridge = await linkedBridge(t, wa);
  const original = await wa.sendText(CONTACT, 'Bei ni 5000');
  await messageWithId(bridge, original.id);

  const reaction = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    reactionMessage: { key: { remoteJid: wa.account.jid, fromMe: true, id: original.id }, text: '👍', senderTimestampMs: Date.now() },
  }));
  const edit = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    protocolMessage: {
      key: { remoteJid: wa.account.jid, fromMe: true, id: original.id },
      type: proto.Message.ProtocolMessage.Type.MESSAGE_EDIT,
      editedMessage: { conversation: 'Bei ni 4500' },
      timestampMs: Date.now(),
    },
  }));
  const revoke = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    protocolMessage: { key: { remoteJid: wa.account.jid, fromMe: true, id: original.id }, type: proto.Message.ProtocolMessage.Type.REVOKE },
  }));

  const reacted = record('fake-wa-reaction', await messageWithId(bridge, reaction.id)).data.raw;
  assert.equal(reacted.message.reactionMessage.text, '👍');
  assert.equal(reacted.message.reactionMessage.key.id, original.id);
  const edited = record('fake-wa-edit', await messageWithId(bridge, edit.id)).data.raw;
  assert.equal(edited.message.protocolMessage.type, proto.Message.ProtocolMessage.Type.MESSAGE_EDIT);
  assert.equal(edited.message.protocolMessage.key.id, original.id);
  assert.equal(edited.message.protocolMessage.editedMessage.conversation, 'Bei ni 4500');
  const revoked = record('fake-wa-revoke', await messageWithId(bridge, revoke.id)).data.raw;
  assert.equal(revoked.message.protocolMessage.key.id, original.id);
  assert.equal(revoked.message.protocolMessage.type ?? 0, proto.Message.ProtocolMessage.Type.REVOKE);
});

test('a round video note is downloaded like any video', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT], media: true });
  t.after(() => wa.stop());
  const bridge = await linkedBridge(t, wa);
  const bytes = randomBytes(4096);
  const { id } = await wa.sendMedia(CONTACT, { type: 'video', field: 'ptvMessage', bytes, mimetype: 'video/mp4', fields: { seconds: 3 } });
  const message = await messageWithId(bridge, id);
  assert.ok(message.data.raw.message.ptvMessage, 'the message is a ptvMessage');
  assert.equal(message.data.mediaPending, true);
  const media = await bridge.waitForEvent(SESSION, 'message_media', (d) => d.raw.key.id === id, { timeoutMs: 20000 });
  assert.equal(media.data.mediaError, undefined);
  const downloaded = readFileSync(media.data.media.path);
  assert.deepEqual(downloaded, bytes);
  assert.equal(media.data.media.mimetype, 'video/mp4');
  // Fixtures keep the bytes themselves: the file is gone with the test's data folder.
  record('fake-wa-ptv', { data: { ...media.data, media: { base64: downloaded.toString('base64'), mimetype: media.data.media.mimetype } } });
});

test('poll votes are decrypted with the poll\'s secret: ours from the host\'s sent messages, a contact\'s from its creation', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT] });
  t.after(() => wa.stop());
  const authStore = new FakeHostAuthStore();
  const bridge = await linkedBridge(t, wa, authStore);
  const options = [{ optionName: 'Jumatatu' }, { optionName: 'Jumanne' }, { optionName: 'Ijumaa' }];

  // A poll we sent: the host has its content (media keys and messageSecret included), as store_message left it.
  const ownPollId = '3EB0' + randomBytes(8).toString('hex').toUpperCase();
  const ownSecret = randomBytes(32);
  const ownPoll = proto.Message.fromObject({
    pollCreationMessageV3: { name: 'Siku gani?', options, selectableOptionsCount: 1 },
    messageContextInfo: { messageSecret: ownSecret },
  });
  authStore.sentMessages.set(`${SESSION}/${ownPollId}`, Buffer.from(proto.Message.encode(ownPoll).finish()).toString('base64'));
  const ownVote = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    pollUpdateMessage: {
      pollCreationMessageKey: { remoteJid: wa.account.jid, fromMe: false, id: ownPollId },
      vote: encryptPollVote(['Jumanne', 'Ijumaa'], { pollMsgId: ownPollId, pollCreatorJid: wa.account.jid, voterJid: CONTACT_JID, pollEncKey: ownSecret }),
      senderTimestampMs: Date.now(),
    },
  }));
  const voted = record('fake-wa-poll-vote', await messageWithId(bridge, ownVote.id));
  assert.deepEqual(voted.data.pollVote.selectedOptions, ['Jumanne', 'Ijumaa']);
  assert.equal(voted.data.pollVote.pollId, ownPollId);
  assert.equal(voted.data.pollVote.decrypted, true);
  assert.equal(voted.data.pollVote.selectedHashes.length, 2);

  // The contact's own poll, seen by the bridge when it arrived; then the contact votes on it.
  const theirSecret = randomBytes(32);
  const theirPoll = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    pollCreationMessageV3: { name: 'Chakula?', options, selectableOptionsCount: 0 },
    messageContextInfo: { messageSecret: theirSecret },
  }));
  await messageWithId(bridge, theirPoll.id);
  const theirVote = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    pollUpdateMessage: {
      pollCreationMessageKey: { remoteJid: wa.account.jid, fromMe: true, id: theirPoll.id },
      vote: encryptPollVote(['Jumatatu'], { pollMsgId: theirPoll.id, pollCreatorJid: CONTACT_JID, voterJid: CONTACT_JID, pollEncKey: theirSecret }),
      senderTimestampMs: Date.now(),
    },
  }));
  assert.deepEqual((await messageWithId(bridge, theirVote.id)).data.pollVote.selectedOptions, ['Jumatatu']);

  // A poll nobody here knows: the vote stays encrypted and says so.
  const unknownVote = await wa.sendMessage(CONTACT, proto.Message.fromObject({
    pollUpdateMessage: {
      pollCreationMessageKey: { remoteJid: wa.account.jid, fromMe: false, id: '3EB0UNKNOWNPOLL' },
      vote: encryptPollVote(['Jumatatu'], { pollMsgId: '3EB0UNKNOWNPOLL', pollCreatorJid: wa.account.jid, voterJid: CONTACT_JID, pollEncKey: randomBytes(32) }),
      senderTimestampMs: Date.now(),
    },
  }));
  assert.deepEqual(record('fake-wa-poll-vote-unknown', await messageWithId(bridge, unknownVote.id)).data.pollVote, { pollId: '3EB0UNKNOWNPOLL', decrypted: false });
});

test('the ready line reports the V8 heap limit the bridge was started with', TEST_TIMEOUT, async (t) => {
  const bridge = spawnBridge({ execArgv: ['--max-old-space-size=96'] });
  t.after(() => bridge.kill());
  const ready = await bridge.waitFor((m) => m.type === 'ready');
  // V8 adds its young generation to the old-space limit: about 96 MB, certainly not the default of several GB.
  assert.ok(ready.heapSizeLimit > 90 * 1024 * 1024 && ready.heapSizeLimit < 200 * 1024 * 1024, String(ready.heapSizeLimit));
});
