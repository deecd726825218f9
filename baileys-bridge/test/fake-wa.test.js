// The real Baileys makeWASocket against the fake WhatsApp server on loopback: Noise handshake with a test
// root, QR and pairing-code linking, the 515 restart, login, end-to-end encrypted messages both ways,
// receipts, retry receipts served from getMessage, error acks, offline batches and every close code.
// No fakes on the client side: what passes here is what Baileys does on the wire.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { DisconnectReason, downloadMediaMessage, proto, WA_CERT_DETAILS } from 'baileys';
import { randomBytes } from 'node:crypto';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { connectClient, createMemoryAuthState } from '../test-support/fake-wa/client.js';

const CONTACT = '255755000001';
const CONTACT_JID = `${CONTACT}@s.whatsapp.net`;
const NOT_ON_WHATSAPP = '255799999999';
const TEST_TIMEOUT = { timeout: 30000 };

async function eventually(condition, description, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${timeoutMs} ms: ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A fake server (or `wa`), a client linked to it by QR, and a second (logged-in) socket that reached `open`. */
async function linkedClient(t, { registered = [CONTACT], config = {}, wa: givenServer } = {}) {
  const wa = givenServer ?? (await startFakeWa({ registered }));
  const auth = createMemoryAuthState();
  const clients = [];
  t.after(async () => {
    for (const client of clients) client.end();
    if (!givenServer) await wa.stop();
  });
  const connect = (extra = {}) => {
    const client = connectClient(wa, auth, { ...config, ...extra });
    clients.push(client);
    return client;
  };
  const pairing = connect();
  const device = await wa.scan(await pairing.waitForQr());
  assert.equal((await pairing.waitForClose()).statusCode, DisconnectReason.restartRequired);
  const client = connect();
  await client.waitForOpen();
  return { wa, auth, device, client, connect };
}

test('the harness swaps the noise root Baileys trusts and gives it back on stop', TEST_TIMEOUT, async () => {
  const realRoot = Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY);
  const wa = await startFakeWa();
  assert.equal(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY).equals(wa.authority.root.public), true);
  assert.equal(WA_CERT_DETAILS.SERIAL, wa.authority.serial);
  assert.match(wa.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws\/chat$/);
  await wa.stop();
  assert.equal(Buffer.from(WA_CERT_DETAILS.PUBLIC_KEY).equals(realRoot), true);
});

test('a server whose certificate chain names another root is refused at the handshake', TEST_TIMEOUT, async (t) => {
  // Baileys rc14 effectively checks only the issuer serial: its Curve.verify ignores libsignal's boolean
  // result, so a bad signature passes (see fake-wa/README.md). The serial mismatch is what fails here.
  const wa = await startFakeWa({ trustRoot: false });
  const client = connectClient(wa, createMemoryAuthState());
  t.after(async () => {
    client.end();
    await wa.stop();
  });
  const { statusCode, error } = await client.waitForClose();
  assert.equal(statusCode, 400);
  assert.match(error.message, /certification match failed/);
});

test('a child process with the trust preload and childEnv pairs with the fake server', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ trustRoot: false }); // only the child trusts it
  t.after(() => wa.stop());
  const clientModule = new URL('../test-support/fake-wa/client.js', import.meta.url).href;
  const script = `
    import { connectClient, createMemoryAuthState } from ${JSON.stringify(clientModule)};
    const client = connectClient({ url: process.argv[1] }, createMemoryAuthState());
    console.log(JSON.stringify({ qr: await client.waitForQr() }));
    console.log(JSON.stringify({ close: (await client.waitForClose()).statusCode }));
    process.exit(0);`;
  const child = spawn(process.execPath, ['--import', TRUST_TEST_ROOT_PRELOAD, '--input-type=module', '-e', script, wa.url], {
    env: { ...process.env, ...wa.childEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill());
  const lines = [];
  let pending = '';
  const closed = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop();
      for (const line of parts) {
        if (!line.startsWith('{')) continue;
        const message = JSON.parse(line);
        lines.push(message);
        if (message.qr) wa.scan(message.qr).catch(reject);
        if (message.close !== undefined) resolve(message.close);
      }
    });
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before closing: ${JSON.stringify(lines)}`)));
  });
  assert.equal(await closed, DisconnectReason.restartRequired);
  assert.equal(wa.directory.devices.size, 1);
});

test('QR pairing: pair-device refs give a QR, the scan links the device, 515 restarts, login opens', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT] });
  const auth = createMemoryAuthState();
  const pairing = connectClient(wa, auth);
  t.after(async () => {
    pairing.end();
    await wa.stop();
  });

  const qr = await pairing.waitForQr();
  const stage = await wa.waitForQr();
  assert.ok(qr.startsWith(`https://wa.me/settings/linked_devices#${stage.refs[0]},`), qr);
  assert.equal(auth.state.creds.me, undefined);

  const device = await wa.scan(qr);
  assert.equal((await pairing.waitForClose()).statusCode, DisconnectReason.restartRequired);
  assert.equal(auth.state.creds.me.id, device.jid);
  assert.equal(auth.state.creds.me.lid, device.lidJid);
  assert.equal(
    Buffer.from(auth.state.creds.account.accountSignatureKey).equals(Buffer.from(wa.account.phoneParty.identity.pubKey).subarray(1)),
    true,
    'the client keeps the account key that signed its device identity',
  );
  const isNewLogin = pairing.updates.find((update) => update.isNewLogin);
  assert.ok(isNewLogin, 'pair-success is reported as a new login');

  const loggedIn = wa.waitForLogin({ device: device.jid });
  const client = connectClient(wa, auth);
  t.after(() => client.end());
  await client.waitForOpen();
  const login = await loggedIn;
  assert.equal(login.firstLogin, true);
  // The client uploaded its pre-keys after login: the server can hand out its bundle to contacts.
  await wa.waitForNode((node) => node.tag === 'iq' && node.attrs.xmlns === 'encrypt' && node.content?.[0]?.tag === 'registration');
  assert.ok(device.preKeys.size > 0);
  assert.deepEqual(wa.unhandled.map((iq) => iq.attrs.xmlns), []);
});

test('unscanned QR codes run out: one QR per ref, then Baileys closes with 408', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ qrRefs: 2 });
  const client = connectClient(wa, createMemoryAuthState(), { qrTimeout: 200 });
  t.after(async () => {
    client.end();
    await wa.stop();
  });
  const { statusCode, error } = await client.waitForClose();
  assert.equal(statusCode, DisconnectReason.timedOut);
  assert.match(error.message, /QR refs attempts ended/);
  assert.equal(client.updates.filter((update) => update.qr).length, 2);
});

test('a device the server does not know is refused at login with 401 (logged out)', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa();
  const auth = createMemoryAuthState();
  auth.state.creds.me = { id: `${wa.account.phone}:3@s.whatsapp.net`, name: 'stale' };
  const client = connectClient(wa, auth);
  t.after(async () => {
    client.end();
    await wa.stop();
  });
  assert.equal((await client.waitForClose()).statusCode, DisconnectReason.loggedOut);
});

test('texts sent by the client decrypt on the contact: pkmsg until the contact answers, then msg', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t);

  const first = await client.sock.sendMessage(CONTACT_JID, { text: 'first message' });
  const firstSeen = await wa.nextDecryptedMessage({ id: first.key.id });
  assert.equal(firstSeen.encType, 'pkmsg');
  assert.equal(firstSeen.text, 'first message');
  assert.equal(firstSeen.recipient, CONTACT_JID);
  assert.equal(firstSeen.decryptError, undefined);

  // Signal keeps sending pre-key messages until the other side has answered on the session.
  const second = await client.sock.sendMessage(CONTACT_JID, { text: 'second message' });
  const secondSeen = await wa.nextDecryptedMessage({ id: second.key.id });
  assert.equal(secondSeen.encType, 'pkmsg');
  assert.equal(secondSeen.text, 'second message');

  const reply = await wa.sendText(CONTACT, 'got them');
  await client.waitForUpsert(({ message }) => message.key.id === reply.id);
  const third = await client.sock.sendMessage(CONTACT_JID, { text: 'third message' });
  const thirdSeen = await wa.nextDecryptedMessage({ id: third.key.id });
  assert.equal(thirdSeen.encType, 'msg');
  assert.equal(thirdSeen.text, 'third message');

  // The account's phone gets its "sent from another device" copy of each message.
  const ownCopy = await wa.nextDecryptedMessage({ id: third.key.id, recipient: wa.account.jid, since: 0 });
  assert.equal(ownCopy.message.deviceSentMessage.destinationJid, CONTACT_JID);
  assert.equal(ownCopy.text, 'third message');
});

test('delivery and read receipts from the contact reach the message status', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t);
  const sent = await client.sock.sendMessage(CONTACT_JID, { text: 'receipt me' });
  await wa.nextDecryptedMessage({ id: sent.key.id });

  wa.sendReceipt({ from: CONTACT, id: sent.key.id });
  const delivered = await client.waitForStatus(sent.key.id, (s) => s.status === proto.WebMessageInfo.Status.DELIVERY_ACK);
  t.diagnostic(`delivery seen through ${delivered.source}`);

  wa.sendReceipt({ from: CONTACT, id: sent.key.id, type: 'read' });
  const read = await client.waitForStatus(sent.key.id, (s) => s.status === proto.WebMessageInfo.Status.READ);
  t.diagnostic(`read seen through ${read.source}`);
  // Baileys acks every receipt it handled.
  await wa.waitForNode((node) => node.tag === 'ack' && node.attrs.class === 'receipt' && node.attrs.id === sent.key.id && node.attrs.type === 'read');
  // Once its own upsert was flushed, a receipt is a messages.update of its own.
  await client.waitForUpsert(({ message }) => message.key.id === sent.key.id);
  wa.sendReceipt({ from: CONTACT, id: sent.key.id, type: 'played' });
  const played = await client.waitForMessageUpdate((u) => u.key.id === sent.key.id && u.update.status === proto.WebMessageInfo.Status.PLAYED);
  assert.equal(played.key.remoteJid, CONTACT_JID);
  assert.equal(played.key.fromMe, true);
});

test('an inbound text from the contact arrives as messages.upsert (notify) and is receipted', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t);

  const { id } = await wa.sendText(CONTACT, 'hello from the contact');
  const { message, type } = await client.waitForUpsert(({ message }) => message.key.id === id);
  assert.equal(type, 'notify');
  assert.equal(message.message.conversation, 'hello from the contact');
  assert.equal(message.key.remoteJid, CONTACT_JID);
  assert.equal(message.key.fromMe, false);
  assert.equal(message.key.remoteJidAlt, wa.directory.contact(CONTACT).lidJid);
  assert.equal(message.pushName, wa.directory.contact(CONTACT).name);
  const receipt = await wa.waitForNode((node) => node.tag === 'receipt' && node.attrs.id === id);
  assert.equal(receipt.attrs.to, CONTACT_JID);

  // The same contact writing again, now LID-addressed, still decrypts (one session, two addresses).
  const second = await wa.sendText(CONTACT, 'again, by LID', { addressing: 'lid' });
  const again = await client.waitForUpsert(({ message }) => message.key.id === second.id);
  assert.equal(again.message.message.conversation, 'again, by LID');
  assert.equal(again.message.key.remoteJid, wa.directory.contact(CONTACT).lidJid);
  assert.equal(again.message.key.remoteJidAlt, CONTACT_JID);
});

test('a retry receipt after a restart is answered from getMessage and the resend decrypts', TEST_TIMEOUT, async (t) => {
  const sentMessages = new Map();
  const getMessageCalls = [];
  const getMessage = async (key) => {
    getMessageCalls.push(key);
    return sentMessages.get(key.id);
  };
  const { wa, client, connect } = await linkedClient(t, { config: { getMessage } });

  const sent = await client.sock.sendMessage(CONTACT_JID, { text: 'please resend me' });
  sentMessages.set(sent.key.id, sent.message);
  await wa.nextDecryptedMessage({ id: sent.key.id });

  // A new socket, as after a bridge restart: Baileys' in-memory recent-message cache is gone.
  client.end();
  await client.waitForClose();
  const restarted = connect();
  await restarted.waitForOpen();

  const since = wa.decrypted.length;
  wa.sendRetryReceipt(CONTACT, sent.key.id);
  const resent = await wa.nextDecryptedMessage({ id: sent.key.id, since });
  assert.deepEqual(
    getMessageCalls.map((key) => ({ id: key.id, remoteJid: key.remoteJid, fromMe: key.fromMe })),
    [{ id: sent.key.id, remoteJid: CONTACT_JID, fromMe: true }],
  );
  assert.equal(resent.text, 'please resend me');
  assert.equal(resent.decryptError, undefined);
});

test('a second retry receipt carrying a fresh key bundle gets the message re-encrypted on a new session', TEST_TIMEOUT, async (t) => {
  const sentMessages = new Map();
  const { wa, client, connect } = await linkedClient(t, { config: { getMessage: async (key) => sentMessages.get(key.id) } });
  const sent = await client.sock.sendMessage(CONTACT_JID, { text: 'resend with keys' });
  sentMessages.set(sent.key.id, sent.message);
  await wa.nextDecryptedMessage({ id: sent.key.id });
  client.end();
  await client.waitForClose();
  const restarted = connect();
  await restarted.waitForOpen();

  const since = wa.decrypted.length;
  wa.sendRetryReceipt(CONTACT, sent.key.id, { count: 2 }); // count > 1: the receipt carries <keys>
  const resent = await wa.nextDecryptedMessage({ id: sent.key.id, since });
  assert.equal(resent.encType, 'pkmsg', 'a new session from the bundle in the receipt');
  assert.equal(resent.text, 'resend with keys');
  // Baileys took the bundle from the receipt instead of fetching one.
  const keyFetches = wa.received.filter(({ node, at }) => at >= resent.at - 5000 && node.tag === 'iq' && node.attrs.xmlns === 'encrypt' && node.content?.[0]?.tag === 'key');
  assert.equal(keyFetches.some(({ node }) => JSON.stringify(node.content[0].content.map((u) => u.attrs.jid)).includes(CONTACT)), false);
});

test('a retry receipt for a message getMessage does not know resends nothing', TEST_TIMEOUT, async (t) => {
  const getMessageCalls = [];
  const { wa, client, connect } = await linkedClient(t, { config: { getMessage: async (key) => void getMessageCalls.push(key) } });
  const sent = await client.sock.sendMessage(CONTACT_JID, { text: 'lost' });
  await wa.nextDecryptedMessage({ id: sent.key.id });
  client.end();
  await client.waitForClose();
  const restarted = connect();
  await restarted.waitForOpen();

  const since = wa.decrypted.length;
  wa.sendRetryReceipt(CONTACT, sent.key.id);
  await wa.waitForNode((node) => node.tag === 'ack' && node.attrs.class === 'receipt' && node.attrs.id === sent.key.id, { includePast: false });
  assert.equal(getMessageCalls.length, 1);
  await assert.rejects(wa.nextDecryptedMessage({ id: sent.key.id, since, timeoutMs: 500 }), /no decrypted message/);
});

test('a 463 error ack on a send turns the message status to error with the code, and the message reaches no one', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t);
  wa.failSendsWith(463, { to: CONTACT });
  const refused = new Promise((resolve) => wa.once('refused-send', resolve));

  const sent = await client.sock.sendMessage(CONTACT_JID, { text: 'new contact while restricted' });
  assert.equal((await refused).id, sent.key.id);
  // The error ack usually lands before Baileys flushed its own upsert: then it is that upsert's status.
  const status = await client.waitForStatus(sent.key.id, (s) => s.status === proto.WebMessageInfo.Status.ERROR);
  assert.deepEqual(status.messageStubParameters, ['463', 'Your account has been restricted']);
  assert.equal(wa.decrypted.some((record) => record.id === sent.key.id), false);

  // Only that send was refused: the next one goes through.
  const next = await client.sock.sendMessage(CONTACT_JID, { text: 'after the refusal' });
  assert.equal((await wa.nextDecryptedMessage({ id: next.key.id })).text, 'after the refusal');
});

test('the reach-out timelock query is answered as configured', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t);
  const until = new Date(Date.now() + 3 * 3600 * 1000);
  wa.setReachoutTimelock({ isActive: true, enforcementEnds: until });
  const timelock = await client.sock.fetchAccountReachoutTimelock();
  assert.equal(timelock.isActive, true);
  assert.equal(timelock.timeEnforcementEnds.getTime(), Math.floor(until.getTime() / 1000) * 1000);
});

test('onWhatsApp resolves registered numbers only; a send to an unregistered number is acked but reaches no one', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t);
  const results = await client.sock.onWhatsApp(CONTACT, NOT_ON_WHATSAPP);
  assert.deepEqual(results, [{ jid: CONTACT_JID, exists: true }]);

  const sent = await client.sock.sendMessage(`${NOT_ON_WHATSAPP}@s.whatsapp.net`, { text: 'into the void' });
  const stanza = await wa.waitForNode((node) => node.tag === 'message' && node.attrs.id === sent.key.id);
  assert.equal(stanza.attrs.to, `${NOT_ON_WHATSAPP}@s.whatsapp.net`);
  // Only the account's own phone got a copy: Baileys reports no error (what issue 14 item 4 is about).
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(
    wa.decrypted.filter((record) => record.id === sent.key.id).map((record) => record.toOwnDevice),
    [true],
  );
});

test('a contact without a LID: Baileys cannot start a session to it, but can answer once it wrote', TEST_TIMEOUT, async (t) => {
  const { wa, client } = await linkedClient(t, { registered: [{ phone: CONTACT, lid: false }] });
  // rc14 fetches key bundles by LID only (assertSessions' wire JIDs), so with no session and no LID every
  // encryption fails. WhatsApp gives every account a LID: this pins Baileys' behaviour, not a real case.
  await assert.rejects(client.sock.sendMessage(CONTACT_JID, { text: 'no session yet' }), /All encryptions failed/);

  const { id } = await wa.sendText(CONTACT, 'pn only');
  const { message } = await client.waitForUpsert(({ message }) => message.key.id === id);
  assert.equal(message.key.remoteJid, CONTACT_JID);
  assert.equal(message.key.remoteJidAlt, undefined);
  assert.equal(message.message.conversation, 'pn only');

  const reply = await client.sock.sendMessage(CONTACT_JID, { text: 'on the session it started' });
  const seen = await wa.nextDecryptedMessage({ id: reply.key.id });
  assert.equal(seen.encType, 'msg');
  assert.equal(seen.text, 'on the session it started');
});

test('media both ways through the loopback media host: upload over TLS, download, a missing file fails', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT], media: true });
  t.after(() => wa.stop());
  const { client } = await linkedClient(t, { wa, config: { fetchAgent: wa.media.agent } });

  const outbound = randomBytes(300_000);
  const sent = await client.sock.sendMessage(CONTACT_JID, { document: outbound, mimetype: 'application/pdf', fileName: 'report.pdf' });
  const seen = await wa.nextDecryptedMessage({ id: sent.key.id });
  assert.equal(seen.mediaType, 'document');
  assert.equal(seen.mediaError, undefined);
  assert.equal(seen.media.equals(outbound), true, 'the recipient decrypts what the client uploaded');
  assert.equal(seen.message.documentMessage.fileName, 'report.pdf');
  assert.equal(wa.media.uploads.at(-1).path.startsWith('/mms/document/'), true);

  const inbound = randomBytes(120_000);
  const { id } = await wa.sendMedia(CONTACT, { type: 'document', bytes: inbound, mimetype: 'application/pdf', fields: { fileName: 'in.pdf' } });
  const { message } = await client.waitForUpsert(({ message }) => message.key.id === id);
  assert.equal(message.message.documentMessage.fileName, 'in.pdf');
  const downloaded = await downloadMediaMessage(message, 'buffer', {});
  assert.equal(downloaded.equals(inbound), true);

  const missing = await wa.sendMedia(CONTACT, { type: 'image', bytes: randomBytes(1000), mimetype: 'image/jpeg', missing: true });
  const { message: missingMessage } = await client.waitForUpsert(({ message }) => message.key.id === missing.id);
  await assert.rejects(downloadMediaMessage(missingMessage, 'buffer', {}), (error) => error.output?.statusCode === 404);
});

test('an offline batch is delivered at login as messages.upsert append, then pending notifications are done', TEST_TIMEOUT, async (t) => {
  const { wa, client, connect } = await linkedClient(t);
  client.end();
  await client.waitForClose();

  await wa.queueOffline([
    { from: CONTACT, text: 'offline one' },
    { from: CONTACT, text: 'offline two' },
    { from: CONTACT, text: 'offline three', addressing: 'lid' },
  ]);
  const back = connect();
  await back.waitForOpen();
  await back.waitForUpsert(({ message }) => message.message?.conversation === 'offline three');
  const offline = back.upserts.flatMap((upsert) => upsert.messages.map((message) => ({ type: upsert.type, text: message.message?.conversation })));
  assert.deepEqual(
    offline.filter((entry) => entry.text?.startsWith('offline')),
    [
      { type: 'append', text: 'offline one' },
      { type: 'append', text: 'offline two' },
      { type: 'append', text: 'offline three' },
    ],
  );
  assert.ok(back.updates.some((update) => update.receivedPendingNotifications === true));
});

test('every close code reaches connection.update with that status code', TEST_TIMEOUT, async (t) => {
  const { wa, connect } = await linkedClient(t);
  // 401 last: it unlinks the device, so no later login would succeed.
  for (const code of [403, 406, 411, 402, 408, 428, 503, 515, 440, 401]) {
    const client = connect();
    await client.waitForOpen();
    wa.closeWith(code);
    const { statusCode } = await client.waitForClose();
    assert.equal(statusCode, code, `close code ${code}`);
  }
  const afterLogout = connect();
  assert.equal((await afterLogout.waitForClose()).statusCode, DisconnectReason.loggedOut);
});

test('a login refused with a failure carries its reason (403 with attributes)', TEST_TIMEOUT, async (t) => {
  const { wa, client, connect } = await linkedClient(t);
  client.end();
  await client.waitForClose();
  wa.failLoginsWith(403, { attrs: { location: 'fake', code: '403' } });
  const refused = connect();
  const { statusCode, error } = await refused.waitForClose();
  assert.equal(statusCode, 403);
  assert.equal(error.data.location, 'fake');
  // once: the next login works again
  const again = connect();
  await again.waitForOpen();
});

test('pairing code: the code entered on the phone links the device, 515 restarts, login opens', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT] });
  const auth = createMemoryAuthState();
  const pairing = connectClient(wa, auth);
  t.after(async () => {
    pairing.end();
    await wa.stop();
  });
  await pairing.waitForQr();
  const code = await pairing.sock.requestPairingCode(wa.account.phone);
  const request = await wa.waitForPairingCodeRequest({ includePast: true });
  assert.equal(request.phone, wa.account.phone);

  const device = await wa.enterPairingCode(code);
  assert.equal((await pairing.waitForClose()).statusCode, DisconnectReason.restartRequired);
  assert.equal(auth.state.creds.registered, true);
  assert.equal(auth.state.creds.me.id, device.jid);

  const client = connectClient(wa, auth);
  t.after(() => client.end());
  await client.waitForOpen();
  const sent = await client.sock.sendMessage(CONTACT_JID, { text: 'linked by code' });
  assert.equal((await wa.nextDecryptedMessage({ id: sent.key.id })).text, 'linked by code');
});

test('a wrong pairing code links nothing, yet Baileys marks the creds registered and the next login is refused', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa();
  const auth = createMemoryAuthState();
  const clients = [];
  t.after(async () => {
    for (const client of clients) client.end();
    await wa.stop();
  });
  const pairing = connectClient(wa, auth);
  clients.push(pairing);
  await pairing.waitForQr();
  const code = await pairing.sock.requestPairingCode(wa.account.phone);
  const wrong = code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA';
  await assert.rejects(wa.enterPairingCode(wrong), /unable to authenticate|bad decrypt|key bundle/i);
  await wa.waitForNode((node) => node.tag === 'iq' && node.content?.[0]?.attrs?.stage === 'companion_finish');
  assert.equal(wa.directory.devices.size, 0);
  await eventually(() => auth.state.creds.registered === true, 'Baileys sets registered once companion_finish is answered');
  pairing.end();
  await pairing.waitForClose();

  const retry = connectClient(wa, auth);
  clients.push(retry);
  assert.equal((await retry.waitForClose()).statusCode, DisconnectReason.loggedOut);
});

test('an abandoned pairing code leaves a half-registered creds.me that WhatsApp refuses (401); fresh creds get a fresh QR', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa();
  const auth = createMemoryAuthState();
  const clients = [];
  t.after(async () => {
    for (const client of clients) client.end();
    await wa.stop();
  });
  const first = connectClient(wa, auth);
  clients.push(first);
  await first.waitForQr();
  await first.sock.requestPairingCode(wa.account.phone);
  await wa.waitForPairingCodeRequest({ includePast: true });
  assert.equal(auth.state.creds.me.id, `${wa.account.phone}@s.whatsapp.net`, 'Baileys stores the number before any pairing');
  first.end(); // the code is never entered
  await first.waitForClose();

  const retry = connectClient(wa, auth);
  clients.push(retry);
  assert.equal((await retry.waitForClose()).statusCode, DisconnectReason.loggedOut);

  const fresh = connectClient(wa, createMemoryAuthState());
  clients.push(fresh);
  assert.match(await fresh.waitForQr(), /^https:\/\/wa\.me\/settings\/linked_devices#/);
});

test('the loopback guard refuses connects and lookups off loopback', async () => {
  const net = await import('node:net');
  const dns = await import('node:dns');
  assert.throws(() => net.connect(443, 'web.whatsapp.com'), { code: 'ERR_TEST_NETWORK_REFUSED' });
  await assert.rejects(dns.promises.lookup('web.whatsapp.com'), { code: 'ERR_TEST_NETWORK_REFUSED' });
  await assert.rejects(fetch('https://web.whatsapp.com/'), (error) => error.cause?.code === 'ERR_TEST_NETWORK_REFUSED');
});
