// Bench (not a test): the memory an idle, connected WhatsApp session costs the bridge. One real bridge process
// (src/main.js with the real Baileys) links N sessions to the fake WhatsApp server on loopback, lets them settle, and
// the bridge reports its RSS and V8 heap after a full GC. Prints the figures at each N and the marginal memory per
// session against the empty bridge.
//
//   node bench/idle-sessions.js [--sessions 1,10,50] [--settle-seconds 10] [--concurrency 5]
//
// Nothing leaves loopback: this process and the bridge run under the tests' network guards.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { spawnBridge } from '../test-support/child-bridge.js';

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1,10,50' },
    'settle-seconds': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '5' },
  },
});
const steps = values.sessions.split(',').map(Number).filter((n) => n > 0).sort((a, b) => a - b);
const settleMs = Number(values['settle-seconds']) * 1000;
const concurrency = Math.max(1, Number(values.concurrency));
const most = steps.at(-1);
const MB = 1024 * 1024;
const preload = (relative) => fileURLToPath(new URL(relative, import.meta.url));

const wa = await startFakeWa({ registered: ['255755000001'] });
const bridge = spawnBridge({
  nodeArgs: [
    '--expose-gc',
    '--import', preload('../test-support/no-network.js'),
    '--import', TRUST_TEST_ROOT_PRELOAD,
    '--import', preload('./memory-probe.js'),
  ],
  env: { ...wa.childEnv, WAPBRIDGE_BRIDGE_MAX_SESSIONS: String(most) },
});

async function measure() {
  // Two probes a second apart, the second counted: the first GC lets finalizers and weak caches run.
  let sample;
  for (let i = 0; i < 2; i++) {
    const since = bridge.stderrLines.length;
    bridge.child.kill('SIGUSR2');
    const deadline = Date.now() + 10000;
    while (!(sample = bridge.stderrLines.slice(since).map(parse).find((l) => l?.probe === 'memory'))) {
      if (Date.now() > deadline) throw new Error('the bridge did not answer the memory probe');
      await sleep(50);
    }
    await sleep(1000);
  }
  return sample;
}

function parse(line) {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}

async function link(session) {
  const since = bridge.messages.length;
  const after = (m) => bridge.messages.indexOf(m) >= since;
  const opened = await bridge.request('open', { session, webSocketUrl: wa.url }, { timeoutMs: 60000 });
  if (!opened.ok) throw new Error(`open ${session}: ${JSON.stringify(opened)}`);
  const qr = await bridge.waitForEvent(session, 'qr', () => true, { timeoutMs: 60000 });
  await wa.scan(qr.data.qr);
  await bridge.waitFor((m) => after(m) && m.type === 'event' && m.session === session && m.event === 'connection' && m.data.state === 'open', {
    timeoutMs: 60000,
    description: `${session} open`,
  });
}

const fmt = (bytes) => (bytes / MB).toFixed(1);
try {
  await bridge.waitFor((m) => m.type === 'ready', { timeoutMs: 30000 });
  await sleep(2000);
  const empty = { n: 0, open: 0, ...(await measure()) };
  const rows = [empty];
  let linked = 0;
  for (const target of steps) {
    const started = Date.now();
    while (linked < target) {
      const batch = [];
      for (let i = 0; i < concurrency && linked < target; i++) batch.push(link(`BENCH-${String(++linked).padStart(4, '0')}`));
      await Promise.all(batch);
    }
    process.stderr.write(`linked ${linked} sessions (${((Date.now() - started) / 1000).toFixed(1)} s); settling ${settleMs / 1000} s\n`);
    await sleep(settleMs);
    const states = new Map();
    for (const m of bridge.messages) if (m.type === 'event' && m.event === 'connection') states.set(m.session, m.data.state);
    const open = [...states.values()].filter((state) => state === 'open').length;
    if (open !== target) throw new Error(`${open} of ${target} sessions are open after settling`);
    rows.push({ n: target, open, ...(await measure()) });
  }

  console.log(`\nIdle connected sessions in one bridge process (Node ${process.version}, baileys 7.0.0-rc14, fake WhatsApp on loopback)`);
  // "since the previous row" leaves out what the first session loads once (Baileys' lazily built protobuf and codecs).
  console.log('sessions open | RSS MB | heap used MB | per session vs empty bridge: RSS / heap MB | per session added since the previous row: RSS / heap MB');
  console.log('---|---|---|---|---');
  rows.forEach((row, i) => {
    if (i === 0) return console.log(`${row.open} | ${fmt(row.rss)} | ${fmt(row.heapUsed)} | | `);
    const per = (from, key) => fmt((row[key] - from[key]) / (row.n - from.n));
    const previous = rows[i - 1];
    console.log(`${row.open} | ${fmt(row.rss)} | ${fmt(row.heapUsed)} | ${per(empty, 'rss')} / ${per(empty, 'heapUsed')} | ${per(previous, 'rss')} / ${per(previous, 'heapUsed')}`);
  });
  const last = rows.at(-1);
  const perSession = (last.rss - empty.rss) / last.n / MB;
  const heapPerSession = (last.heapUsed - empty.heapUsed) / last.n / MB;
  console.log(`\nmarginal memory per idle session at ${last.n}: RSS ${perSession.toFixed(1)} MB, heap ${heapPerSession.toFixed(2)} MB (target ≤ 20 MB: ${perSession <= 20 ? 'met' : 'missed'})`);
} finally {
  bridge.kill();
  await bridge.exited;
  await wa.stop();
}
process.exit(0);
