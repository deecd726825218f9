// The real Baileys package, no fakes: pointed at a closed loopback port (tests never reach WhatsApp), an open
// session must end in a `connection` `close` with a reason, not a crash or a hang. Set WAPBRIDGE_BRIDGE_SKIP_REAL=1
// to skip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSED_LOOPBACK_WS, spawnBridge } from '../test-support/child-bridge.js';

const skip = process.env.WAPBRIDGE_BRIDGE_SKIP_REAL ? 'WAPBRIDGE_BRIDGE_SKIP_REAL is set' : false;

const isClose = (session) => (m) => m.type === 'event' && m.session === session && m.event === 'connection' && m.data.state === 'close';

test(
  'real Baileys at a closed loopback port reports connection close with a reason and the bridge exits cleanly',
  { skip, timeout: 60000 },
  async (t) => {
    const bridge = spawnBridge();
    t.after(() => bridge.kill());
    await bridge.waitFor((m) => m.type === 'ready', { description: 'ready', timeoutMs: 30000 });
    const opened = await bridge.request('open', { session: 'REAL-1', webSocketUrl: CLOSED_LOOPBACK_WS }, { timeoutMs: 30000 });
    assert.equal(opened.ok, true, JSON.stringify(opened));

    // creds: load_creds answered null → fresh creds saved to the host
    assert.deepEqual(
      bridge.authStore.calls.slice(0, 2).map((call) => call.op),
      ['load_creds', 'save_creds'],
    );
    assert.equal(JSON.parse(bridge.authStore.creds.get('REAL-1')).registered, false);

    const started = Date.now();
    const outcome = await bridge.waitFor(isClose('REAL-1'), { description: 'close', timeoutMs: 30000 });
    assert.equal(outcome.data.reason.statusCode, 408);
    assert.equal(outcome.data.reason.name, 'timedOut');
    // Refused by the loopback port, not a lookup of WhatsApp's name, and at once rather than after a timeout.
    assert.match(outcome.data.reason.error, /ECONNREFUSED 127\.0\.0\.1:9/);
    assert.ok(Date.now() - started < 10000, `close took ${Date.now() - started} ms`);
    t.diagnostic(`close reason: ${JSON.stringify(outcome.data.reason)}`);

    assert.equal((await bridge.request('ping')).ok, true, 'the bridge still serves requests');
    bridge.child.stdin.end();
    const { code } = await bridge.exited;
    assert.equal(code, 0);
  },
);

test(
  'without webSocketUrl Baileys aims at WhatsApp, and the test guard inherited by the bridge refuses it',
  { skip, timeout: 60000 },
  async (t) => {
    const bridge = spawnBridge();
    t.after(() => bridge.kill());
    await bridge.waitFor((m) => m.type === 'ready', { description: 'ready', timeoutMs: 30000 });
    assert.equal((await bridge.request('open', { session: 'REAL-2' }, { timeoutMs: 30000 })).ok, true);

    const outcome = await bridge.waitFor(isClose('REAL-2'), { description: 'close', timeoutMs: 30000 });
    assert.match(outcome.data.reason.error, /test network guard refused a connection to web\.whatsapp\.com:443/);
    bridge.child.stdin.end();
    // The refusal fails the bridge process, so a test cannot pass by swallowing it.
    assert.equal((await bridge.exited).code, 1);
    assert.ok(bridge.stderrLines.some((line) => line.startsWith('[no-network]')));
  },
);

test('open refuses a webSocketUrl that is not ws:// or wss://', { skip, timeout: 60000 }, async (t) => {
  const bridge = spawnBridge();
  t.after(() => bridge.kill());
  for (const webSocketUrl of ['http://127.0.0.1:9/ws', 'not a url', 42]) {
    const answer = await bridge.request('open', { session: 'REAL-3', webSocketUrl }, { timeoutMs: 30000 });
    assert.equal(answer.ok, false, JSON.stringify(answer));
    assert.equal(answer.error.code, 'invalid_params');
    assert.match(answer.error.message, /webSocketUrl/);
  }
  bridge.child.stdin.end();
  assert.equal((await bridge.exited).code, 0);
});
