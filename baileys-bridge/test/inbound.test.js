// Inbound edge cases with a fake Baileys socket: messages before their media, ignored chats, undecryptable stubs,
// LIDs resolved through Baileys' own LID map, abandoned pairings and late auth writes of a closed session.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeSocketFactory } from '../test-support/fake-socket.js';
import { startBridge, tick } from '../test-support/harness.js';
import { BoundedSet } from '../src/bounded.js';

async function openSession(host, factory, session = 'S1') {
  const response = await host.request('open', { session });
  assert.equal(response.ok, true, JSON.stringify(response));
  await host.waitForEvent(session, 'connection', (data) => data.state === 'connecting');
  return factory.last();
}

const image = { url: 'https://mmg.invalid/x', directPath: '/x', mediaKey: Buffer.from('k'), mimetype: 'image/jpeg' };

test('a message is handed over while its media is still downloading; the media follows as message_media', async () => {
  const factory = createFakeSocketFactory();
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  const downloadMedia = async () => {
    await gate;
    return Buffer.from('jpeg');
  };
  const host = await startBridge({ makeSocket: factory.makeSocket, downloadMedia });
  const socket = await openSession(host, factory);
  socket.open();
  socket.ev.emit('messages.upsert', {
    type: 'notify',
    messages: [
      { key: { remoteJid: 'a@s.whatsapp.net', id: 'IMG' }, message: { imageMessage: image } },
      { key: { remoteJid: 'a@s.whatsapp.net', id: 'TXT' }, message: { conversation: 'after the photo' } },
    ],
  });
  // Both messages arrive although the download has not finished: a stuck download loses nothing.
  await host.waitFor(() => host.events('S1', 'message').length === 2, { description: 'both messages' });
  assert.deepEqual(host.events('S1', 'message').map((e) => [e.data.raw.key.id, e.data.mediaPending ?? false]), [['IMG', true], ['TXT', false]]);
  assert.equal(host.events('S1', 'message_media').length, 0);
  release();
  const media = await host.waitForEvent('S1', 'message_media');
  assert.equal(media.data.raw.key.id, 'IMG');
  assert.equal(host.mediaBytes(media.data.media).toString(), 'jpeg');
  await host.stop();
});

test('status broadcasts and newsletters are ignored: no download, no event', async () => {
  const factory = createFakeSocketFactory();
  const downloads = [];
  const host = await startBridge({ makeSocket: factory.makeSocket, downloadMedia: async (m) => downloads.push(m.key.id) && Buffer.from('x') });
  const socket = await openSession(host, factory);
  socket.open();
  socket.ev.emit('messages.upsert', {
    type: 'notify',
    messages: [
      { key: { remoteJid: 'status@broadcast', participant: 'a@s.whatsapp.net', id: 'ST' }, message: { imageMessage: image } },
      { key: { remoteJid: '120363000000000000@newsletter', id: 'NL' }, message: { imageMessage: image } },
      { key: { remoteJid: 'a@s.whatsapp.net', id: 'OK' }, message: { conversation: 'real' } },
    ],
  });
  await host.waitForEvent('S1', 'message', (data) => data.raw.key.id === 'OK');
  await tick(20);
  assert.deepEqual(host.events('S1', 'message').map((e) => e.data.raw.key.id), ['OK']);
  assert.deepEqual(downloads, []);
  await host.stop();
});

test('a CIPHERTEXT stub is reported once as undecryptable, not as a message', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  socket.open();
  const stub = { key: { remoteJid: '123@lid', id: 'BAD' }, messageStubType: 2, messageStubParameters: ['No session found to decrypt message'] };
  socket.ev.emit('messages.upsert', { type: 'notify', messages: [stub, stub] });
  socket.ev.emit('messages.upsert', { type: 'notify', messages: [{ key: { remoteJid: 'a@s.whatsapp.net', id: 'OK' }, message: { conversation: 'x' } }] });
  await host.waitForEvent('S1', 'message');
  assert.deepEqual(host.events('S1', 'undecryptable').map((e) => e.data), [
    { id: 'BAD', remoteJid: '123@lid', error: 'No session found to decrypt message' },
  ]);
  assert.deepEqual(host.events('S1', 'message').map((e) => e.data.raw.key.id), ['OK']);
  await host.stop();
});

test('a sender known only by LID is resolved through Baileys\' LID map before the message is handed over', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  socket.signalRepository = {
    lidMapping: { getPNForLID: async (lid) => (lid === '777:3@lid' ? '491709999999:3@s.whatsapp.net' : null) },
  };
  socket.open();
  socket.ev.emit('messages.upsert', {
    type: 'notify',
    messages: [
      { key: { remoteJid: '777:3@lid', id: 'L1' }, message: { conversation: 'by lid' } },
      { key: { remoteJid: '888@lid', id: 'L2' }, message: { conversation: 'unknown lid' } },
    ],
  });
  await host.waitFor(() => host.events('S1', 'message').length === 2, { description: 'both messages' });
  const order = host.messages.filter((m) => m.type === 'event' && (m.event === 'lid_mapping' || m.event === 'message')).map((m) => m.event);
  assert.deepEqual(order, ['lid_mapping', 'message', 'message'], 'the mapping comes before the message it resolves');
  assert.deepEqual(host.events('S1', 'lid_mapping').map((e) => e.data), [{ lid: '777@lid', pn: '491709999999@s.whatsapp.net' }]);
  await host.stop();
});

test('creds left half-registered by an abandoned pairing code are replaced by fresh ones at open', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  await openSession(host, factory);
  const stored = JSON.parse(host.authStore.creds.get('S1'));
  // What requestPairingCode leaves behind when the code is never entered (a wrong code also sets registered).
  host.authStore.creds.set('S1', JSON.stringify({ ...stored, me: { id: '491701234567@s.whatsapp.net', name: '~' }, registered: true, pairingCode: 'ABCD1234' }));
  host.authStore.keys.set('S1/pre-key/1', '{"stale":true}');
  await host.request('close', { session: 'S1' });

  const socket = await openSession(host, factory);
  assert.equal(socket.config.auth.creds.me, undefined);
  assert.equal(socket.config.auth.creds.registered, false);
  assert.notDeepEqual(socket.config.auth.creds.noiseKey.public, stored.noiseKey.public);
  const saved = JSON.parse(host.authStore.creds.get('S1'));
  assert.equal(saved.me, undefined, 'the fresh creds are stored');
  assert.equal(host.authStore.keys.has('S1/pre-key/1'), false, 'keys of the abandoned attempt are gone');
  // The pairing stage is open again: a new code can be requested.
  const pairing = host.request('pairing_code', { session: 'S1', phone: '491701234567' });
  socket.qr();
  assert.equal((await pairing).ok, true);
  await host.stop();
});

test('creds of a completed pairing are kept at open', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  await openSession(host, factory);
  const stored = JSON.parse(host.authStore.creds.get('S1'));
  host.authStore.creds.set('S1', JSON.stringify({ ...stored, me: { id: '491701234567:5@s.whatsapp.net' }, account: { details: 'x' } }));
  await host.request('close', { session: 'S1' });
  const socket = await openSession(host, factory);
  assert.equal(socket.config.auth.creds.me.id, '491701234567:5@s.whatsapp.net');
  assert.equal(host.authStore.calls.some((call) => call.op === 'clear'), false);
  await host.stop();
});

test('a closed session refuses late auth writes of its old socket', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  await host.request('close', { session: 'S1' });
  const before = host.authStore.calls.length;
  await assert.rejects(socket.config.auth.keys.set({ 'pre-key': { 1: { public: Buffer.from('p') } } }), /closed/);
  await tick(10);
  assert.equal(host.authStore.calls.length, before, 'nothing reached the host');
  await host.stop();
});

test('BoundedSet keeps only its newest entries', () => {
  const set = new BoundedSet(2);
  set.add('a').add('b').add('a').add('c');
  assert.equal(set.size, 2);
  assert.equal(set.has('b'), false);
  assert.equal(set.has('a') && set.has('c'), true);
});
