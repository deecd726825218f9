// The real Baileys package, no fakes: with no network (as in CI/sandboxes) an open session must end in a
// `connection` `close` with a reason, not a crash or a hang. Set WAPBRIDGE_BRIDGE_SKIP_REAL=1 to skip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnBridge } from '../test-support/child-bridge.js';

test(
  'real Baileys without network reports connection close with a reason and the bridge exits cleanly',
  { skip: process.env.WAPBRIDGE_BRIDGE_SKIP_REAL ? 'WAPBRIDGE_BRIDGE_SKIP_REAL is set' : false, timeout: 60000 },
  async (t) => {
    const bridge = spawnBridge();
    t.after(() => bridge.kill());
    await bridge.waitFor((m) => m.type === 'ready', { description: 'ready', timeoutMs: 30000 });
    const opened = await bridge.request('open', { session: 'REAL-1' }, { timeoutMs: 30000 });
    assert.equal(opened.ok, true, JSON.stringify(opened));

    // creds: load_creds answered null → fresh creds saved to the host
    assert.deepEqual(
      bridge.authStore.calls.slice(0, 2).map((call) => call.op),
      ['load_creds', 'save_creds'],
    );
    assert.equal(JSON.parse(bridge.authStore.creds.get('REAL-1')).registered, false);

    const outcome = await bridge.waitFor(
      (m) => m.type === 'event' && m.session === 'REAL-1' && (m.event === 'qr' || (m.event === 'connection' && m.data.state === 'close')),
      { description: 'close (or qr if the network is reachable)', timeoutMs: 30000 },
    );
    if (outcome.event === 'qr') {
      t.diagnostic('WhatsApp was reachable: got a QR code instead of an offline close');
    } else {
      assert.equal(typeof outcome.data.reason.statusCode, 'number');
      assert.equal(typeof outcome.data.reason.name, 'string');
      assert.ok(outcome.data.reason.error);
      t.diagnostic(`offline close reason: ${JSON.stringify(outcome.data.reason)}`);
    }

    assert.equal((await bridge.request('ping')).ok, true, 'the bridge still serves requests');
    bridge.child.stdin.end();
    const { code } = await bridge.exited;
    assert.equal(code, 0);
  },
);
