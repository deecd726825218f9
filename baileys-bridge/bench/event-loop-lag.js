#!/usr/bin/env node
// Bench (not a test): one 100 MB video through the real bridge (src/main.js, real Baileys) to the fake WhatsApp
// server on loopback, and how the bridge's event loop fared meanwhile. Prints the max and p99 event-loop lag of the
// bridge during the send (perf_hooks.monitorEventLoopDelay, preloaded from lag-probe.js), the slowest `ping` round
// trip, the send's duration and the bridge's peak RSS.
//
//   node bench/event-loop-lag.js [--mb 100]
//
// Everything stays on 127.0.0.1; the video and the data folder live in a temp dir that is removed afterwards.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from '../test-support/fake-wa-server.js';
import { spawnBridge } from '../test-support/child-bridge.js';

const CONTACT = '255755000001';
const SESSION = 'INST-BENCH-0000001';
const MB = 1024 * 1024;
const sizeMb = Number(process.argv[process.argv.indexOf('--mb') + 1]) || 100;
const probe = fileURLToPath(new URL('./lag-probe.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'bridge-lag-bench-'));
const lagFile = join(dir, 'lag.json');
const wa = await startFakeWa({ registered: [CONTACT], trustRoot: false, media: { keepUploads: false } });
const bridge = spawnBridge({
  env: { ...wa.childEnv, WAPBRIDGE_BRIDGE_DATA_DIR: dir, WAPBRIDGE_BENCH_LAG_FILE: lagFile },
  execArgv: ['--import', TRUST_TEST_ROOT_PRELOAD, '--import', probe],
});
try {
  await bridge.waitFor((m) => m.type === 'ready', { description: 'ready' });
  await bridge.request('open', { session: SESSION, webSocketUrl: wa.url });
  const qr = await bridge.waitForEvent(SESSION, 'qr', () => true, { timeoutMs: 30000 });
  await wa.scan(qr.data.qr);
  await bridge.waitForEvent(SESSION, 'connection', (d) => d.state === 'open', { timeoutMs: 30000 });

  mkdirSync(join(dir, 'media'));
  const path = join(dir, 'media', 'video');
  const block = randomBytes(MB);
  const out = createWriteStream(path);
  for (let i = 0; i < sizeMb; i++) if (!out.write(block)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');

  bridge.child.kill('SIGUSR2'); // measure the send only, not the login
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = performance.now();
  const send = bridge.request(
    'send',
    { session: SESSION, to: `${CONTACT}@s.whatsapp.net`, messageId: '3EB0BENCHVIDEO001', media: { kind: 'video', path, mimetype: 'video/mp4' } },
    { timeoutMs: 600000 },
  );
  let done = false;
  send.finally(() => (done = true));
  const pings = [];
  while (!done) {
    const t0 = performance.now();
    await bridge.request('ping', {}, { timeoutMs: 600000 });
    pings.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const result = await send;
  const seconds = (performance.now() - started) / 1000;
  if (!result.ok) throw new Error(`send failed: ${JSON.stringify(result.error)}`);

  bridge.child.stdin.end();
  await bridge.exited;
  const lag = JSON.parse(readFileSync(lagFile, 'utf8'));
  const sorted = [...pings].sort((a, b) => a - b);
  console.log(`video: ${sizeMb} MB, sent in ${seconds.toFixed(1)} s (${(sizeMb / seconds).toFixed(1)} MB/s)`);
  console.log(`bridge event-loop lag during the send: max ${lag.maxLagMs} ms, p99 ${lag.p99LagMs} ms, mean ${lag.meanLagMs} ms`);
  console.log(`ping round trips during the send: ${pings.length}, p50 ${Math.round(sorted[Math.floor(sorted.length / 2)])} ms, max ${Math.round(sorted.at(-1))} ms`);
  console.log(`bridge RSS: ${lag.rssAtStartMb} MB before the send, peak ${lag.peakRssMb} MB`);
} finally {
  bridge.kill();
  await wa.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
