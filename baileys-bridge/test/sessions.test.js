// The bridge in-process with a fake Baileys socket: requests in, protocol events out.

import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { createFakeSocketFactory } from '../test-support/fake-socket.js';
import { startBridge, tick } from '../test-support/harness.js';

/** A media file in the host's data folder, named by its content hash (as the host's media store names them). */
function mediaFile(host, text) {
  const dir = join(host.dataDir, 'media');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, createHash('sha256').update(text).digest('hex'));
  writeFileSync(path, text);
  return path;
}

async function openSession(host, factory, session = 'S1', params = {}) {
  const response = await host.request('open', { session, ...params });
  assert.equal(response.ok, true, JSON.stringify(response));
  await host.waitForEvent(session, 'connection', (data) => data.state === 'connecting');
  return factory.last();
}

test('ready is the first message and carries protocol, versions and maxSessions', async () => {
  const host = await startBridge({ makeSocket: createFakeSocketFactory().makeSocket, env: { WAPBRIDGE_BRIDGE_MAX_SESSIONS: '7' } });
  const ready = await host.waitFor((m) => m.type === 'ready');
  assert.equal(host.messages[0], ready);
  assert.equal(ready.protocol, 2);
  assert.equal(ready.baileysVersion, '7.0.0-rc14');
  assert.equal(typeof ready.bridgeVersion, 'string');
  assert.equal(ready.maxSessions, 7);
  await host.stop();
});

test('ping answers {} and an unknown method answers unknown_method', async () => {
  const host = await startBridge({ makeSocket: createFakeSocketFactory().makeSocket });
  assert.deepEqual((await host.request('ping')).result, {});
  const unknown = await host.request('reboot_phone', { session: 'S1' });
  assert.equal(unknown.ok, false);
  assert.equal(unknown.error.code, 'unknown_method');
  await host.stop();
});

test('open loads creds first, passes waVersion/browser and the host-backed auth state to makeSocket', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory, 'S1', { waVersion: [2, 3000, 1], browser: ['WapBridge', 'Chrome', '1.0'] });
  const ops = host.authStore.calls.map((call) => call.op);
  assert.deepEqual(ops.slice(0, 2), ['load_creds', 'save_creds'], 'null creds → initAuthCreds → save_creds');
  assert.deepEqual(socket.config.version, [2, 3000, 1]);
  assert.deepEqual(socket.config.browser, ['WapBridge', 'Chrome', '1.0']);
  assert.ok(Buffer.isBuffer(socket.config.auth.creds.noiseKey.public));
  assert.equal(typeof socket.config.logger.child, 'function');

  // the keys Baileys gets go to the host's get_keys/set_keys
  await socket.config.auth.keys.set({ 'pre-key': { 9: { public: Buffer.from('p'), private: Buffer.from('q') } } });
  const fetched = await socket.config.auth.keys.get('sender-key', ['x']);
  assert.deepEqual(fetched, {});
  assert.ok(host.authStore.calls.some((call) => call.op === 'set_keys' && call.params.data['pre-key']['9']));
  assert.ok(host.authStore.calls.some((call) => call.op === 'get_keys' && call.params.category === 'sender-key'));

  // without waVersion we leave Baileys' bundled default alone (no network lookup)
  await openSession(host, factory, 'S2');
  assert.equal('version' in factory.last().config, false);
  await host.stop();
});

test('open passes webSocketUrl to makeSocket as waWebSocketUrl, and leaves Baileys\' default alone without it', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  await openSession(host, factory, 'S1', { webSocketUrl: 'ws://127.0.0.1:9/ws' });
  assert.equal(factory.last().config.waWebSocketUrl, 'ws://127.0.0.1:9/ws');
  await openSession(host, factory, 'S2', { webSocketUrl: 'wss://wa.proxy.invalid/ws/chat' });
  assert.equal(factory.last().config.waWebSocketUrl, 'wss://wa.proxy.invalid/ws/chat');
  await openSession(host, factory, 'S3');
  assert.equal('waWebSocketUrl' in factory.last().config, false);
  const refused = await host.request('open', { session: 'S4', webSocketUrl: 'https://127.0.0.1:9/ws' });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 'invalid_params');
  await host.stop();
});

test('qr, open with me, and creds.update → save_creds', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  socket.qr('2@abc');
  assert.deepEqual((await host.waitForEvent('S1', 'qr')).data, { qr: '2@abc' });

  const savesBefore = host.authStore.calls.filter((call) => call.op === 'save_creds').length;
  socket.config.auth.creds.me = { id: '491701234567:12@s.whatsapp.net', name: 'Shop' };
  socket.ev.emit('creds.update', { me: socket.config.auth.creds.me });
  await host.waitFor(() => host.authStore.calls.filter((call) => call.op === 'save_creds').length > savesBefore);
  assert.match(host.authStore.creds.get('S1'), /491701234567:12@s\.whatsapp\.net/);

  socket.open();
  const open = await host.waitForEvent('S1', 'connection', (data) => data.state === 'open');
  assert.deepEqual(open.data.me, { id: '491701234567:12@s.whatsapp.net', lid: '123456789:12@lid', name: 'Shop' });
  await host.stop();
});

for (const [statusCode, name] of [
  [401, 'loggedOut'],
  [440, 'connectionReplaced'],
  [408, 'timedOut'],
]) {
  test(`close with ${statusCode} is reported as ${name} and not reconnected`, async () => {
    const factory = createFakeSocketFactory();
    const host = await startBridge({ makeSocket: factory.makeSocket });
    const socket = await openSession(host, factory);
    socket.open();
    socket.close(statusCode, 'Stream Errored');
    const close = await host.waitForEvent('S1', 'connection', (data) => data.state === 'close');
    assert.deepEqual(close.data.reason, { statusCode, error: 'Stream Errored', name });
    await tick(20);
    assert.equal(factory.sockets.length, 1);
    assert.equal((await host.request('send', { session: 'S1', to: 'x@s.whatsapp.net', text: 'hi' })).error.code, 'not_connected');
    await host.stop();
  });
}

test('515 restartRequired recreates the socket with the same creds instead of reporting close', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const first = await openSession(host, factory);
  first.qr();
  first.close(515, 'Stream Errored (restart required)');
  await host.waitFor(() => factory.sockets.length === 2, { description: 'second socket' });
  const second = factory.last();
  assert.equal(second.config.auth.creds, first.config.auth.creds);
  second.open();
  await host.waitForEvent('S1', 'connection', (data) => data.state === 'open');
  assert.equal(host.events('S1', 'connection').filter((e) => e.data.state === 'close').length, 0);
  // events of the replaced socket no longer reach the host
  first.qr('2@stale');
  // an uncaught error from the replaced socket's leftovers is logged, not blamed on the live socket
  const { sessionContext } = await import('../src/context.js');
  const session = host.bridge.registry.sessions.get('S1');
  sessionContext.run({ session, generation: session.generation - 1 }, () => host.bridge.handleUncaught(new Error('stale')));
  await tick(10);
  assert.equal(host.events('S1', 'qr').some((e) => e.data.qr === '2@stale'), false);
  assert.equal(host.events('S1', 'connection').some((e) => e.data.state === 'close'), false);
  await host.stop();
});

test('messages.upsert: text, extended text and image with caption, one event per message; media follows as message_media', async () => {
  const factory = createFakeSocketFactory();
  const downloads = [];
  const downloadMedia = async (message) => {
    downloads.push(message.key.id);
    return Buffer.from('jpeg-bytes');
  };
  const host = await startBridge({ makeSocket: factory.makeSocket, downloadMedia });
  const socket = await openSession(host, factory);
  socket.open();
  socket.ev.emit('messages.upsert', {
    type: 'notify',
    messages: [
      {
        key: { remoteJid: '491701111111@s.whatsapp.net', fromMe: false, id: 'M1' },
        messageTimestamp: 1764288000,
        pushName: 'Alice',
        message: { conversation: 'hello' },
      },
      {
        key: { remoteJid: '491701111111@s.whatsapp.net', fromMe: false, id: 'M2' },
        message: { extendedTextMessage: { text: 'see https://example.invalid', contextInfo: { stanzaId: 'M1' } } },
      },
      {
        key: { remoteJid: '491701111111@s.whatsapp.net', fromMe: false, id: 'M3' },
        message: {
          imageMessage: {
            url: 'https://mmg.whatsapp.invalid/x',
            directPath: '/x',
            mimetype: 'image/jpeg',
            caption: 'look',
            mediaKey: Buffer.from('k'),
            fileLength: 10,
          },
        },
      },
    ],
  });
  await host.waitFor(() => host.events('S1', 'message').length === 3, { description: 'three messages' });
  const [text, extended, image] = host.events('S1', 'message').map((e) => e.data);
  assert.equal(text.upsertType, 'notify');
  assert.deepEqual(text.raw.key, { remoteJid: '491701111111@s.whatsapp.net', fromMe: false, id: 'M1' });
  assert.equal(text.raw.message.conversation, 'hello');
  assert.equal(text.raw.pushName, 'Alice');
  assert.equal('media' in text, false);
  assert.equal(extended.raw.message.extendedTextMessage.contextInfo.stanzaId, 'M1');
  assert.equal(image.raw.message.imageMessage.caption, 'look');
  assert.deepEqual(image.raw.message.imageMessage.mediaKey, { type: 'Buffer', data: 'aw==' });
  assert.equal(image.mediaPending, true);
  assert.equal('media' in image, false);
  assert.equal('mediaPending' in text, false);
  const media = (await host.waitForEvent('S1', 'message_media')).data;
  assert.equal(media.raw.key.id, 'M3');
  // The media is a file in the data folder named by its SHA-256, never base64 in the line.
  const jpegSha = createHash('sha256').update('jpeg-bytes').digest('hex');
  assert.deepEqual(media.media, {
    path: join(host.dataDir, 'bridge-media', jpegSha),
    sha256: jpegSha,
    size: 10,
    mimetype: 'image/jpeg',
  });
  assert.equal(host.mediaBytes(media.media).toString(), 'jpeg-bytes');
  assert.deepEqual(readdirSync(join(host.dataDir, 'bridge-media')), [jpegSha], 'no temp file left behind');
  assert.deepEqual(downloads, ['M3']);
  await host.stop();
});

test('a failed media download sends mediaError and no media; documents keep their fileName', async () => {
  const factory = createFakeSocketFactory();
  const downloadMedia = async (message) => {
    if (message.key.id === 'BAD') throw new Error('media expired (410)');
    return Buffer.from('%PDF');
  };
  const host = await startBridge({ makeSocket: factory.makeSocket, downloadMedia });
  const socket = await openSession(host, factory);
  socket.open();
  const media = { url: 'https://mmg.invalid/x', directPath: '/x', mediaKey: Buffer.from('k') };
  socket.ev.emit('messages.upsert', {
    type: 'append',
    messages: [
      { key: { remoteJid: 'a@s.whatsapp.net', id: 'BAD' }, message: { videoMessage: { ...media, mimetype: 'video/mp4' } } },
      {
        key: { remoteJid: 'a@s.whatsapp.net', id: 'DOC' },
        message: {
          documentWithCaptionMessage: {
            message: { documentMessage: { ...media, mimetype: 'application/pdf', fileName: 'invoice.pdf' } },
          },
        },
      },
    ],
  });
  await host.waitFor(() => host.events('S1', 'message_media').length === 2, { description: 'two media' });
  const [bad, doc] = host.events('S1', 'message_media').map((e) => e.data);
  assert.equal(bad.upsertType, 'append');
  assert.equal(bad.raw.key.id, 'BAD');
  assert.equal(bad.mediaError, 'media expired (410)');
  assert.equal('media' in bad, false);
  assert.equal(doc.media.mimetype, 'application/pdf');
  assert.equal(doc.media.fileName, 'invoice.pdf');
  assert.equal(host.mediaBytes(doc.media).toString(), '%PDF');
  await host.stop();
});

test('media we sent ourselves is not downloaded again when Baileys echoes it as append', async () => {
  const factory = createFakeSocketFactory();
  const downloads = [];
  const downloadMedia = async (message) => downloads.push(message.key.id) && Buffer.from('x');
  const host = await startBridge({ makeSocket: factory.makeSocket, downloadMedia });
  const socket = await openSession(host, factory);
  socket.open();
  const sent = await host.request('send', {
    session: 'S1',
    to: 'a@s.whatsapp.net',
    messageId: 'OWN1',
    media: { kind: 'image', path: mediaFile(host, 'AAAA'), mimetype: 'image/jpeg' },
  });
  assert.equal(sent.ok, true);
  const image = { url: 'https://mmg.invalid/x', directPath: '/x', mediaKey: Buffer.from('k'), mimetype: 'image/jpeg' };
  socket.ev.emit('messages.upsert', {
    type: 'append',
    messages: [
      { key: { remoteJid: 'a@s.whatsapp.net', fromMe: true, id: 'OWN1' }, message: { imageMessage: image } },
      { key: { remoteJid: 'a@s.whatsapp.net', fromMe: true, id: 'PHONE1' }, message: { imageMessage: image } },
    ],
  });
  await host.waitFor(() => host.events('S1', 'message_media').length === 1, { description: 'the phone\'s media' });
  const [own, fromPhone] = host.events('S1', 'message').map((e) => e.data);
  assert.equal(own.mediaSkipped, 'sent_by_bridge');
  assert.equal('media' in own, false);
  assert.equal('mediaPending' in own, false);
  assert.equal(fromPhone.mediaPending, true);
  assert.ok(host.events('S1', 'message_media')[0].data.media, 'media sent from the phone is still downloaded');
  assert.deepEqual(downloads, ['PHONE1']);
  await host.stop();
});

test('messages.update statuses and message-receipt.update become receipt events', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  socket.open();
  const key = { remoteJid: '491701111111@s.whatsapp.net', fromMe: true, id: '3EB0AA' };
  socket.ev.emit('messages.update', [
    { key, update: { status: 3, messageTimestamp: 1764288001 } },
    { key, update: { status: 4 } },
    { key, update: { message: { conversation: 'edited' } } }, // not a receipt
  ]);
  socket.ev.emit('message-receipt.update', [
    {
      key: { remoteJid: '1203630@g.us', fromMe: true, id: '3EB0BB', participant: undefined },
      receipt: { userJid: '491702222222@s.whatsapp.net', readTimestamp: 1764288005 },
    },
  ]);
  await host.waitFor(() => host.events('S1', 'receipt').length === 3, { description: 'three receipts' });
  const receipts = host.events('S1', 'receipt').map((e) => e.data);
  assert.deepEqual(receipts[0], { id: '3EB0AA', remoteJid: key.remoteJid, fromMe: true, status: 3, timestamp: 1764288001 });
  assert.equal(receipts[1].status, 4);
  assert.deepEqual(receipts[2], {
    id: '3EB0BB',
    remoteJid: '1203630@g.us',
    fromMe: true,
    status: 4,
    participant: '491702222222@s.whatsapp.net',
    timestamp: 1764288005,
  });
  await host.stop();
});

test('lid-mapping.update and LID-addressed message keys become lid_mapping events, once each', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  socket.open();
  socket.ev.emit('lid-mapping.update', { lid: '111@lid', pn: '491701111111@s.whatsapp.net' });
  socket.ev.emit('lid-mapping.update', { lid: '111@lid', pn: '491701111111@s.whatsapp.net' });
  socket.ev.emit('messages.upsert', {
    type: 'notify',
    messages: [
      {
        // Baileys 7, 1:1 chat addressed by LID: remoteJid is the LID, remoteJidAlt the phone number
        key: { remoteJid: '222@lid', remoteJidAlt: '491702222222@s.whatsapp.net', addressingMode: 'lid', fromMe: false, id: 'L1' },
        message: { conversation: 'hi' },
      },
      {
        // group: participant is the sender, participantAlt its other address
        key: {
          remoteJid: '1203630@g.us',
          participant: '491703333333:4@s.whatsapp.net',
          participantAlt: '333:4@lid',
          addressingMode: 'pn',
          fromMe: false,
          id: 'G1',
        },
        message: { conversation: 'group hi' },
      },
    ],
  });
  await host.waitFor(() => host.events('S1', 'message').length === 2, { description: 'messages' });
  const mappings = host.events('S1', 'lid_mapping').map((e) => e.data);
  assert.deepEqual(mappings, [
    { lid: '111@lid', pn: '491701111111@s.whatsapp.net' },
    { lid: '222@lid', pn: '491702222222@s.whatsapp.net' },
    { lid: '333@lid', pn: '491703333333@s.whatsapp.net' },
  ]);
  const raw = host.events('S1', 'message')[0].data.raw;
  assert.equal(raw.key.remoteJidAlt, '491702222222@s.whatsapp.net', 'raw keeps the alt fields for the host mapper');
  await host.stop();
});

test('send passes the host messageId to sendMessage and returns id and timestamp; media and errors map', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  assert.equal((await host.request('send', { session: 'S1', to: 'a@s.whatsapp.net', text: 'x' })).error.code, 'not_connected');
  socket.open();

  const sent = await host.request('send', { session: 'S1', to: '491701234567@s.whatsapp.net', messageId: '3EB0CAFE', text: 'Hallo' });
  assert.deepEqual(sent.result, { messageId: '3EB0CAFE', timestamp: 1764288000 });
  assert.deepEqual(socket.sent[0], { jid: '491701234567@s.whatsapp.net', content: { text: 'Hallo' }, options: { messageId: '3EB0CAFE' } });

  const voice = await host.request('send', {
    session: 'S1',
    to: 'a@s.whatsapp.net',
    messageId: 'V1',
    media: { kind: 'voice', path: mediaFile(host, 'ogg'), mimetype: 'audio/ogg; codecs=opus' },
  });
  assert.equal(voice.ok, true);
  // Baileys gets the file as a URL and streams it: no media bytes pass through the bridge's memory or a line.
  assert.deepEqual(socket.sent[1].content, { audio: { url: mediaFile(host, 'ogg') }, mimetype: 'audio/ogg; codecs=opus', ptt: true });

  await host.request('send', {
    session: 'S1',
    to: 'a@s.whatsapp.net',
    media: { kind: 'image', path: mediaFile(host, 'AAAA'), mimetype: 'image/png' },
    caption: 'pic',
  });
  assert.equal(socket.sent[2].content.caption, 'pic');
  assert.deepEqual(socket.sent[2].content.image, { url: mediaFile(host, 'AAAA') });

  // Paths outside the host's data folder are refused: the host must not make the bridge read arbitrary files.
  const outside = await host.request('send', { session: 'S1', to: 'a@s.whatsapp.net', media: { kind: 'image', path: '/etc/passwd' } });
  assert.equal(outside.error.code, 'invalid_params');
  assert.match(outside.error.message, /inside the data folder/);
  const escaping = await host.request('send', {
    session: 'S1',
    to: 'a@s.whatsapp.net',
    media: { kind: 'image', path: join(host.dataDir, '..', 'elsewhere') },
  });
  assert.equal(escaping.error.code, 'invalid_params');
  const base64 = await host.request('send', { session: 'S1', to: 'a@s.whatsapp.net', media: { kind: 'image', base64: 'AAAA' } });
  assert.equal(base64.error.code, 'invalid_params', 'protocol 2 carries no base64 media');
  assert.equal(socket.sent.length, 3);

  assert.equal((await host.request('send', { session: 'S1', to: 'a@s.whatsapp.net' })).error.code, 'invalid_params');
  assert.equal((await host.request('send', { session: 'NOPE', to: 'a@s.whatsapp.net', text: 'x' })).error.code, 'unknown_session');
  socket.sendError = new Error('not-acceptable');
  const failed = await host.request('send', { session: 'S1', to: 'a@s.whatsapp.net', text: 'x' });
  assert.deepEqual(failed.error, { code: 'send_failed', message: 'not-acceptable' });
  await host.stop();
});

test('presence and pairing_code go to the socket', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  const pairing = host.request('pairing_code', { session: 'S1', phone: '491701234567' });
  await tick(10);
  socket.qr(); // the socket must reach the QR stage before WhatsApp accepts a pairing request
  assert.deepEqual((await pairing).result, { code: 'ABCD1234' });
  assert.deepEqual(socket.pairingRequests, ['491701234567']);
  assert.equal((await host.request('pairing_code', { session: 'S1', phone: '+49 170' })).error.code, 'invalid_params');

  socket.open();
  assert.equal((await host.request('presence', { session: 'S1', to: 'a@s.whatsapp.net', state: 'composing' })).ok, true);
  assert.deepEqual(socket.presences, [{ state: 'composing', jid: 'a@s.whatsapp.net' }]);
  assert.equal((await host.request('presence', { session: 'S1', state: 'dancing' })).error.code, 'invalid_params');
  await host.stop();
});

test('open with pairingPhone requests a code at the QR stage and reports a pairing_code event', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory, 'S1', { pairingPhone: '491701234567' });
  socket.qr();
  const event = await host.waitForEvent('S1', 'pairing_code');
  assert.deepEqual(event.data, { code: 'ABCD1234', phone: '491701234567' });
  await host.stop();
});

test('logout logs out on WhatsApp, reports loggedOut once and asks the host to clear', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  socket.open();
  const response = await host.request('logout', { session: 'S1' });
  assert.deepEqual(response.result, { remoteLogout: true });
  assert.equal(socket.loggedOut, true);
  assert.equal(socket.ended, true);
  assert.ok(host.authStore.calls.some((call) => call.op === 'clear' && call.session === 'S1'));
  assert.equal(host.authStore.creds.has('S1'), false);
  await tick(20); // the fake's own asynchronous 401 close must not produce a second event
  const closes = host.events('S1', 'connection').filter((e) => e.data.state === 'close');
  assert.equal(closes.length, 1);
  assert.equal(closes[0].data.reason.name, 'loggedOut');
  assert.equal((await host.request('send', { session: 'S1', to: 'a@s.whatsapp.net', text: 'x' })).error.code, 'unknown_session');
  await host.stop();
});

test('logout of a session that is not connected only clears the local auth state', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  const response = await host.request('logout', { session: 'S1' });
  assert.deepEqual(response.result, { remoteLogout: false });
  assert.equal(socket.loggedOut, false);
  assert.equal(socket.ended, true);
  assert.ok(host.authStore.calls.some((call) => call.op === 'clear'));
  await host.stop();
});

test('close ends the socket without logout and keeps auth; re-open replaces the old socket', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const first = await openSession(host, factory);
  await openSession(host, factory); // opening an open session closes the old socket first
  assert.equal(first.ended, true);
  const second = factory.last();
  assert.deepEqual((await host.request('close', { session: 'S1' })).result, {});
  assert.equal(second.ended, true);
  assert.equal(second.loggedOut, false);
  assert.ok(host.authStore.creds.has('S1'));
  assert.equal(host.authStore.calls.some((call) => call.op === 'clear'), false);
  assert.equal((await host.request('close', { session: 'S1' })).ok, true, 'close is idempotent');
  await host.stop();
});

test('WAPBRIDGE_BRIDGE_MAX_SESSIONS limits open sessions', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket, env: { WAPBRIDGE_BRIDGE_MAX_SESSIONS: '1' } });
  await openSession(host, factory, 'S1');
  const refused = await host.request('open', { session: 'S2' });
  assert.equal(refused.error.code, 'session_limit');
  await host.request('close', { session: 'S1' });
  assert.equal((await host.request('open', { session: 'S2' })).ok, true);
  await host.stop();
});

test('an auth call refused by the host closes that session with authStateError', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const socket = await openSession(host, factory);
  host.authStore.failOps.add('get_keys');
  await assert.rejects(socket.config.auth.keys.get('session', ['x.0']));
  const close = await host.waitForEvent('S1', 'connection', (data) => data.state === 'close');
  assert.equal(close.data.reason.statusCode, 500);
  assert.equal(close.data.reason.name, 'authStateError');
  assert.equal(socket.ended, true);

  host.authStore.failOps.add('load_creds');
  const refused = await host.request('open', { session: 'S2' });
  assert.equal(refused.ok, false);
  const close2 = await host.waitForEvent('S2', 'connection', (data) => data.state === 'close');
  assert.equal(close2.data.reason.name, 'authStateError');
  await host.stop();
});

test('an exception in one session closes only that session; others and the bridge keep working', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  const broken = await openSession(host, factory, 'S1');
  const healthy = await openSession(host, factory, 'S2');
  broken.open();
  healthy.open();
  // a malformed Baileys payload makes our handler throw
  broken.ev.emit('messages.update', [{ key: null, get update() { throw new Error('corrupt update'); } }]);
  const close = await host.waitForEvent('S1', 'connection', (data) => data.state === 'close');
  assert.equal(close.data.reason.name, 'internalError');
  assert.match(close.data.reason.error, /corrupt update/);

  // code running for S2 that throws outside our handlers is pinned on S2 by the uncaught handler
  const { sessionContext } = await import('../src/context.js');
  const s2 = host.bridge.registry.sessions.get('S2');
  sessionContext.run({ session: s2, generation: s2.generation }, () =>
    host.bridge.handleUncaught(new Error('escaped'), 'uncaughtException'),
  );
  assert.equal((await host.waitForEvent('S2', 'connection', (d) => d.state === 'close')).data.reason.name, 'internalError');
  host.bridge.handleUncaught(new Error('no session'), 'uncaughtException'); // just logged

  const third = await openSession(host, factory, 'S3');
  third.open();
  await host.waitForEvent('S3', 'connection', (data) => data.state === 'open');
  assert.equal((await host.request('send', { session: 'S3', to: 'a@s.whatsapp.net', text: 'still here' })).ok, true);
  assert.deepEqual((await host.request('ping')).result, {});
  await host.stop();
});

test('stdin end ends every socket without logging out', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  await openSession(host, factory, 'S1');
  await openSession(host, factory, 'S2');
  await host.stop();
  assert.ok(factory.sockets.every((socket) => socket.ended && !socket.loggedOut));
});
