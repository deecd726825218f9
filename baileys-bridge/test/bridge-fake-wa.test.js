// The real bridge process (src/main.js, real Baileys) speaking NDJSON, against the fake WhatsApp server on
// loopback: what the host gets for LID-addressed messages, offline batches and abandoned pairing codes.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { spawnBridge } from '../test-support/child-bridge.js';
import { FakeHostAuthStore } from '../test-support/harness.js';

const CONTACT = '255755000001';
const SESSION = 'INST-01-0000001';
const TEST_TIMEOUT = { timeout: 90000 };

function bridgeFor(t, wa, authStore) {
  const bridge = spawnBridge({ authStore, nodeArgs: ['--import', TRUST_TEST_ROOT_PRELOAD], env: wa.childEnv });
  t.after(() => bridge.kill());
  return bridge;
}

const open = async (bridge, wa, extra = {}) => {
  const response = await bridge.request('open', { session: SESSION, webSocketUrl: wa.url, ...extra }, { timeoutMs: 20000 });
  assert.equal(response.ok, true, JSON.stringify(response));
};

const opened = (bridge, since) =>
  bridge.waitFor((m, i = bridge.messages.indexOf(m)) => i >= since && m.type === 'event' && m.event === 'connection' && m.data.state === 'open', {
    timeoutMs: 20000,
    description: 'connection open',
  });

/** A bridge whose session is linked by QR and logged in. */
async function linkedBridge(t, wa, authStore) {
  const bridge = bridgeFor(t, wa, authStore);
  await bridge.waitFor((m) => m.type === 'ready');
  await open(bridge, wa);
  const qr = await bridge.waitForEvent(SESSION, 'qr', () => true, { timeoutMs: 20000 });
  await wa.scan(qr.data.qr);
  await opened(bridge, 0);
  return bridge;
}

const messageEvents = (bridge) => bridge.messages.filter((m) => m.type === 'event' && m.event === 'message');

test('a message addressed by LID alone is preceded by its phone from Baileys\' persisted LID map, in a new bridge process', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT] });
  t.after(() => wa.stop());
  const authStore = new FakeHostAuthStore();
  const first = await linkedBridge(t, wa, authStore);

  // WhatsApp tells the phone number once (sender_pn on a LID-addressed message); Baileys stores the pair in its keys.
  await wa.sendText(CONTACT, 'first, with sender_pn', { addressing: 'lid' });
  const firstMessage = await first.waitForEvent(SESSION, 'message', (d) => d.raw.message?.conversation === 'first, with sender_pn', { timeoutMs: 20000 });
  const lid = firstMessage.data.raw.key.remoteJid;
  assert.match(lid, /@lid$/);
  assert.ok([...authStore.keys.keys()].some((key) => key.startsWith(`${SESSION}/lid-mapping/`)), 'the pair is in the host-backed auth state');
  await first.request('close', { session: SESSION });
  first.kill();
  await first.exited;

  // A new process knows nothing in memory; the next message carries the LID only.
  const second = bridgeFor(t, wa, authStore);
  await second.waitFor((m) => m.type === 'ready');
  await open(second, wa);
  await opened(second, 0);
  await wa.sendText(CONTACT, 'second, LID only', { addressing: 'lid', attrs: { sender_pn: undefined } });
  const message = await second.waitForEvent(SESSION, 'message', (d) => d.raw.message?.conversation === 'second, LID only', { timeoutMs: 20000 });
  assert.equal(message.data.raw.key.remoteJid, lid);
  assert.equal(message.data.raw.key.remoteJidAlt, undefined, 'WhatsApp did not say the phone this time');
  const mapping = second.messages.find((m) => m.type === 'event' && m.event === 'lid_mapping');
  assert.ok(mapping, 'the bridge resolved the LID through Baileys\' LID map');
  assert.deepEqual(mapping.data, { lid, pn: `${CONTACT}@s.whatsapp.net` });
  assert.ok(second.messages.indexOf(mapping) < second.messages.indexOf(message), 'the mapping comes before the message');
});

test('an offline batch reaches the host as append messages, in order, after a reconnect', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa({ registered: [CONTACT] });
  t.after(() => wa.stop());
  const bridge = await linkedBridge(t, wa, new FakeHostAuthStore());
  // Let the first login settle (its history sync is stored in creds): a session closed before that would make
  // Baileys wait up to 20 s for that sync again at the next login.
  await bridge.waitFor(() => bridge.authStore.calls.filter((c) => c.op === 'save_creds').some((c) => c.params.creds.includes('"processedHistoryMessages":[{')), {
    timeoutMs: 25000,
    description: 'the initial history sync stored in creds',
  }).catch(() => {});
  await bridge.request('close', { session: SESSION });

  await wa.queueOffline([
    { from: CONTACT, text: 'offline one' },
    { from: CONTACT, text: 'offline two' },
    { from: CONTACT, text: 'offline three', addressing: 'lid' },
  ]);
  const since = bridge.messages.length;
  await open(bridge, wa);
  await bridge.waitFor((m) => m.type === 'event' && m.event === 'message' && m.data.raw.message?.conversation === 'offline three', {
    timeoutMs: 40000,
    description: 'the last offline message',
  });
  const offline = messageEvents(bridge)
    .filter((m) => bridge.messages.indexOf(m) >= since)
    .map((m) => ({ type: m.data.upsertType, text: m.data.raw.message?.conversation }));
  assert.deepEqual(offline, [
    { type: 'append', text: 'offline one' },
    { type: 'append', text: 'offline two' },
    { type: 'append', text: 'offline three' },
  ]);
});

test('an abandoned pairing code leaves the session able to show a fresh QR and ask for a new code', TEST_TIMEOUT, async (t) => {
  const wa = await startFakeWa();
  t.after(() => wa.stop());
  const authStore = new FakeHostAuthStore();
  const bridge = bridgeFor(t, wa, authStore);
  await bridge.waitFor((m) => m.type === 'ready');
  await open(bridge, wa);
  await bridge.waitForEvent(SESSION, 'qr', () => true, { timeoutMs: 20000 });
  const code = await bridge.request('pairing_code', { session: SESSION, phone: wa.account.phone }, { timeoutMs: 20000 });
  assert.equal(code.ok, true, JSON.stringify(code));
  await wa.waitForPairingCodeRequest({ includePast: true });
  assert.equal(JSON.parse(authStore.creds.get(SESSION)).me.id, `${wa.account.phone}@s.whatsapp.net`, 'Baileys stored the number');
  await bridge.request('close', { session: SESSION }); // the code is never entered

  const since = bridge.messages.length;
  await open(bridge, wa);
  const next = await bridge.waitFor(
    (m, i = bridge.messages.indexOf(m)) =>
      i >= since && m.type === 'event' && (m.event === 'qr' || (m.event === 'connection' && m.data.state === 'close')),
    { timeoutMs: 20000, description: 'a QR or a close' },
  );
  assert.equal(next.event, 'qr', `expected a fresh QR, got ${JSON.stringify(next.data)}`);
  assert.equal(JSON.parse(authStore.creds.get(SESSION)).me, undefined, 'the half-registered creds were replaced');

  // And a new code can be asked for, then entered: the device links and logs in.
  const again = await bridge.request('pairing_code', { session: SESSION, phone: wa.account.phone }, { timeoutMs: 20000 });
  assert.equal(again.ok, true, JSON.stringify(again));
  await wa.enterPairingCode(again.result.code);
  await opened(bridge, since);
});
