// A real bridge child (src/main.js, real Baileys) with its own data folder in the test's temp dir, linked by QR to a
// fake WhatsApp server (with a loopback media host for media tests); everything is stopped and removed after the test.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeWa, TRUST_TEST_ROOT_PRELOAD } from './fake-wa-server.js';
import { spawnBridge } from './child-bridge.js';

const LOGIN_WAIT = { timeoutMs: 30000 };

/** A real bridge linked to a fake WhatsApp server started with `waOptions` (see startFakeWa). */
export async function linkedBridge(t, { session, waOptions, env = {} }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bridge-data-'));
  const wa = await startFakeWa({ trustRoot: false, ...waOptions });
  const bridge = spawnBridge({
    env: { ...wa.childEnv, WAPBRIDGE_BRIDGE_DATA_DIR: dataDir, ...env },
    execArgv: ['--import', TRUST_TEST_ROOT_PRELOAD],
  });
  t.after(async () => {
    bridge.kill();
    await wa.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await bridge.waitFor((m) => m.type === 'ready', { description: 'ready', timeoutMs: 30000 });
  const opened = await bridge.request('open', { session, webSocketUrl: wa.url });
  assert.equal(opened.ok, true, JSON.stringify(opened));
  const qr = await bridge.waitForEvent(session, 'qr', () => true, LOGIN_WAIT);
  await wa.scan(qr.data.qr);
  await bridge.waitForEvent(session, 'connection', (d) => d.state === 'open', LOGIN_WAIT);
  return { wa, bridge, dataDir };
}

export const linkedMediaBridge = (t, { session, contact, media = true, env = {} }) =>
  linkedBridge(t, { session, waOptions: { registered: [contact], media }, env });
