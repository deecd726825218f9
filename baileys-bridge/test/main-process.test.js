// `node src/main.js` as a child process: startup, a request, and a clean exit when stdin closes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnBridge } from '../test-support/child-bridge.js';

test('main.js prints ready, answers ping and exits 0 when stdin closes', async (t) => {
  const bridge = spawnBridge();
  t.after(() => bridge.kill());
  const ready = await bridge.waitFor((m) => m.type === 'ready', { description: 'ready' });
  assert.equal(bridge.messages[0], ready);
  assert.equal(ready.protocol, 2);
  assert.equal(ready.baileysVersion, '7.0.0-rc14');
  const pong = await bridge.request('ping');
  assert.deepEqual(pong, { type: 'response', id: pong.id, ok: true, result: {} });
  bridge.child.stdin.end();
  const { code } = await bridge.exited;
  assert.equal(code, 0);
});

test('an uncaught exception thrown inside one session closes that session and the process keeps serving', async (t) => {
  const socketModule = fileURLToPath(new URL('../test-support/crashing-socket.js', import.meta.url));
  const bridge = spawnBridge({ env: { WAPBRIDGE_BRIDGE_SOCKET_MODULE: socketModule, WAPBRIDGE_BRIDGE_LOG_LEVEL: 'info' } });
  t.after(() => bridge.kill());
  await bridge.waitFor((m) => m.type === 'ready', { description: 'ready' });
  assert.equal((await bridge.request('open', { session: 'OK' })).ok, true);
  assert.equal((await bridge.request('open', { session: 'BOOM', browser: ['crash', 'Chrome', '1'] })).ok, true);
  const close = await bridge.waitForEvent('BOOM', 'connection', (data) => data.state === 'close');
  assert.equal(close.data.reason.name, 'internalError');
  assert.match(close.data.reason.error, /socket internals exploded/);
  assert.equal(bridge.messages.some((m) => m.session === 'OK' && m.event === 'connection' && m.data.state === 'close'), false);
  assert.equal((await bridge.request('ping')).ok, true);
  bridge.child.stdin.end();
  assert.equal((await bridge.exited).code, 0);
  // spawnBridge parses every stdout line as JSON, so reaching here means no noise leaked into the protocol
  // …and that it went to stderr as JSON log lines instead
  const logs = bridge.stderrLines.map((line) => JSON.parse(line));
  assert.match(logs.find((entry) => entry.source === 'console').msg, /Closing session: \{ registrationId: 1 \}/);
  assert.equal(logs.find((entry) => entry.source === 'stdout').msg, 'raw stdout noise');
});
