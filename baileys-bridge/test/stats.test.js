// The periodic `stats` event: memory, event-loop lag and sessions of the bridge process, every N ms.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readConfig } from '../src/bridge.js';
import { DEFAULT_STATS_INTERVAL_MS, startStats } from '../src/stats.js';
import { createFakeSocketFactory } from '../test-support/fake-socket.js';
import { spawnBridge } from '../test-support/child-bridge.js';
import { startBridge, tick } from '../test-support/harness.js';

/** Keeps the event loop busy, as a long synchronous task in a session would. */
function block(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

const isStats = (m) => m.type === 'event' && m.event === 'stats';

test('the stats interval comes from WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS, 15 s by default', () => {
  assert.equal(DEFAULT_STATS_INTERVAL_MS, 15000);
  assert.equal(readConfig({}).statsIntervalMs, 15000);
  assert.equal(readConfig({ WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS: '500' }).statsIntervalMs, 500);
  assert.equal(readConfig({ WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS: '0' }).statsIntervalMs, 15000);
  assert.equal(readConfig({ WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS: 'soon' }).statsIntervalMs, 15000);
});

test('stats events come every interval without a session, with memory, lag and the open sessions', async () => {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket, env: { WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS: '100' } });
  try {
    const first = await host.waitFor(isStats, { description: 'a stats event' });
    assert.equal('session' in first, false, 'stats belong to the process, not to a session');
    const { data } = first;
    assert.deepEqual(Object.keys(data).sort(), [
      'eventLoopLagMaxMs', 'eventLoopLagMeanMs', 'eventLoopLagMs', 'heapTotal', 'heapUsed', 'intervalMs', 'rss', 'sessions',
    ]);
    assert.equal(data.intervalMs, 100);
    assert.equal(data.sessions, 0);
    assert.ok(Number.isInteger(data.rss) && data.rss > 10 * 1024 * 1024, `rss ${data.rss}`);
    assert.ok(Number.isInteger(data.heapUsed) && data.heapUsed > 0 && data.heapUsed <= data.heapTotal, `heap ${data.heapUsed}/${data.heapTotal}`);
    assert.ok(data.rss >= data.heapUsed);
    assert.equal(typeof data.eventLoopLagMs, 'number');

    assert.equal((await host.request('open', { session: 'S1' })).ok, true);
    await host.waitFor((m) => isStats(m) && m.data.sessions === 1, { description: 'stats counting the session' });
  } finally {
    await host.stop();
  }
});

test('a blocked event loop shows as lag in the next period and not in the one after', async () => {
  const sent = [];
  const stats = startStats({ intervalMs: 60000, send: (s) => sent.push(s), sessions: () => 3 });
  try {
    await tick(50);
    stats.sample(); // start a fresh period
    await tick(30);
    block(300);
    await tick(30);
    const blocked = stats.sample();
    assert.ok(blocked.eventLoopLagMaxMs >= 280, `max ${blocked.eventLoopLagMaxMs} ms`);
    assert.ok(blocked.eventLoopLagMs >= 280, `p99 ${blocked.eventLoopLagMs} ms`);
    assert.ok(blocked.eventLoopLagMeanMs > 0 && blocked.eventLoopLagMeanMs < blocked.eventLoopLagMs);
    assert.equal(blocked.sessions, 3);

    await tick(100);
    const calm = stats.sample();
    assert.ok(calm.eventLoopLagMaxMs < 150, `the period after: max ${calm.eventLoopLagMaxMs} ms`);
    assert.equal(sent.length, 0, 'nothing is sent before the interval');
  } finally {
    stats.stop();
  }
});

test('a period without a single loop sample reports lag as null, memory still', () => {
  const stats = startStats({
    intervalMs: 60000,
    send: () => {},
    sessions: () => 0,
    memoryUsage: () => ({ rss: 300, heapUsed: 100, heapTotal: 200 }),
  });
  try {
    stats.sample();
    const empty = stats.sample(); // synchronously after the last: the loop-delay timer did not fire in between
    assert.deepEqual(empty, {
      rss: 300, heapUsed: 100, heapTotal: 200, eventLoopLagMs: null, eventLoopLagMeanMs: null, eventLoopLagMaxMs: null, sessions: 0, intervalMs: 60000,
    });
  } finally {
    stats.stop();
  }
});

test('main.js sends stats as a child process and still exits 0 when stdin closes', async (t) => {
  const bridge = spawnBridge({ env: { WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS: '200' } });
  t.after(() => bridge.kill());
  await bridge.waitFor((m) => m.type === 'ready', { description: 'ready' });
  const stats = await bridge.waitFor(isStats, { description: 'stats' });
  assert.ok(stats.data.rss > 0 && stats.data.heapUsed > 0);
  bridge.child.stdin.end();
  assert.equal((await bridge.exited).code, 0);
});
