// The send path of the real bridge process (src/main.js, real Baileys) against the fake WhatsApp server: what the
// bridge sends is handed to the host and a resend after a bridge restart is served from it (getMessage), numbers
// are checked with WhatsApp, and WhatsApp's error acks (463 with the reach-out timelock) fail the send with the code.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proto } from 'baileys';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { spawnBridge } from '../test-support/child-bridge.js';
import { FakeHostAuthStore } from '../test-support/harness.js';

const CONTACT = '255755000001';
const CONTACT_JID = `${CONTACT}@s.whatsapp.net`;
const NOT_ON_WHATSAPP = '255799999999';
const SESSION = 'INST-01-0000001';
const TEST_TIMEOUT = { timeout: 60000 };
const LOGIN_WAIT = { timeoutMs: 30000 };

/** A real bridge child trusting the fake server's test root, its session linked by QR and open. */
async function linkedBridge(t, { registered = [CONTACT] } = {}) {
  const wa = await startFakeWa({ registered, trustRoot: false }); // only the bridge process trusts it
  const authStore = new FakeHostAuthStore();
  const bridges = [];
  t.after(async () => {
    for (const bridge of bridges) bridge.kill();
    await wa.stop();
  });
  const start = async () => {
    const bridge = spawnBridge({ authStore, env: wa.childEnv, execArgv: ['--import', TRUST_TEST_ROOT_PRELOAD] });
    bridges.push(bridge);
    await bridge.waitFor((m) => m.type === 'ready', { description: 'ready' });
    const opened = await bridge.request('open', { session: SESSION, webSocketUrl: wa.url });
    assert.equal(opened.ok, true, JSON.stringify(opened));
    return bridge;
  };
  const bridge = await start();
  const qr = await bridge.waitForEvent(SESSION, 'qr', () => true, LOGIN_WAIT);
  await wa.scan(qr.data.qr);
  await bridge.waitForEvent(SESSION, 'connection', (d) => d.state === 'open', LOGIN_WAIT);
  return { wa, authStore, bridge, start };
}

test('a resend asked for after a bridge restart is answered from what the host stored, and decrypts', TEST_TIMEOUT, async (t) => {
  const { wa, authStore, bridge, start } = await linkedBridge(t);
  const messageId = '3EB0A1B2C3D4E5F60718';
  const sent = await bridge.request('send', { session: SESSION, to: CONTACT_JID, messageId, text: 'please resend me' });
  assert.equal(sent.ok, true, JSON.stringify(sent));
  assert.equal(sent.result.messageId, messageId);
  // since 0: the send is answered after WhatsApp's ack, so the contact may have decrypted it already.
  const first = await wa.nextDecryptedMessage({ id: messageId, since: 0 });
  assert.equal(first.text, 'please resend me');

  // Handed to the host before the send was answered: the proto as sent.
  const storeCall = authStore.calls.find((call) => call.op === 'store_message' && call.params.id === messageId);
  assert.ok(storeCall, 'the bridge handed the sent message to the host');
  assert.equal(storeCall.params.remoteJid, CONTACT_JID);
  const stored = proto.Message.decode(Buffer.from(storeCall.params.content, 'base64'));
  assert.equal(stored.conversation || stored.extendedTextMessage?.text, 'please resend me');

  // A new bridge process: Baileys' in-memory cache of recent sends is gone with the old one.
  bridge.kill();
  await bridge.exited;
  const restarted = await start();
  await restarted.waitForEvent(SESSION, 'connection', (d) => d.state === 'open', LOGIN_WAIT);

  const since = wa.decrypted.length;
  wa.sendRetryReceipt(CONTACT, messageId);
  const resent = await wa.nextDecryptedMessage({ id: messageId, since });
  assert.equal(resent.text, 'please resend me');
  assert.equal(resent.decryptError, undefined);
  assert.ok(authStore.calls.some((call) => call.op === 'get_message' && call.params.id === messageId), 'getMessage asked the host');
});

test('check_number: a registered number answers its JID, an unregistered one does not exist', TEST_TIMEOUT, async (t) => {
  const { bridge } = await linkedBridge(t);
  const registered = await bridge.request('check_number', { session: SESSION, phone: CONTACT });
  assert.deepEqual(registered.result, { exists: true, jid: CONTACT_JID });
  const unknown = await bridge.request('check_number', { session: SESSION, phone: NOT_ON_WHATSAPP });
  assert.deepEqual(unknown.result, { exists: false });
  const invalid = await bridge.request('check_number', { session: SESSION, phone: '+49 170' });
  assert.equal(invalid.error.code, 'invalid_params');
});

test('a 463 error ack fails the send with the code and the reach-out timelock; the next send goes through', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedBridge(t);
  const until = new Date(Date.now() + 5 * 3600 * 1000);
  wa.setReachoutTimelock({ isActive: true, enforcementEnds: until });
  wa.failSendsWith(463, { to: CONTACT });

  const refused = await bridge.request('send', { session: SESSION, to: CONTACT_JID, messageId: '3EB0463000000000AAAA', text: 'new contact' });
  assert.equal(refused.ok, false);
  assert.equal(refused.error.code, 'send_failed');
  assert.equal(refused.error.statusCode, 463);
  assert.equal(refused.error.restriction.active, true);
  assert.equal(refused.error.restriction.until, new Date(Math.floor(until.getTime() / 1000) * 1000).toISOString());
  assert.equal(wa.decrypted.some((record) => record.id === '3EB0463000000000AAAA' && !record.toOwnDevice), false);

  const next = await bridge.request('send', { session: SESSION, to: CONTACT_JID, messageId: '3EB0463000000000BBBB', text: 'after' });
  assert.equal(next.ok, true, JSON.stringify(next));
  // The refusal was the send's answer, not a receipt the host would apply to the message.
  assert.equal(
    bridge.messages.some((m) => m.event === 'receipt' && m.data.id === '3EB0463000000000AAAA' && m.data.status === 0),
    false,
  );
});
