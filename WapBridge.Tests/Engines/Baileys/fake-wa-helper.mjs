// Runs the fake WhatsApp server (baileys-bridge/test-support/fake-wa-server.js) for a C# test: prints
// {"url","childEnv","preload"} once, then answers one JSON command per stdin line with one JSON line on stdout:
// {"do":"scan","qr"} links the device; {"do":"decrypted","id","since"?} waits for a message the contact decrypted;
// {"do":"retry","from","id"} sends a retry receipt; {"do":"count"} is how many messages were decrypted so far;
// {"do":"fail_sends","code","to"} refuses the next send to `to` with that error ack; {"do":"timelock","until"} sets
// the answer to the reach-out timelock query.
// argv[2]: the baileys-bridge folder.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const bridgeDir = process.argv[2];
const load = (relative) => import(pathToFileURL(path.join(bridgeDir, relative)).href);
await load('test-support/fake-wa/loopback-guard.js');
await load('test-support/fake-wa/quiet-libsignal.js');
const { startFakeWa, TRUST_TEST_ROOT_PRELOAD } = await load('test-support/fake-wa-server.js');

const registered = (process.argv[3] ?? '').split(',').filter(Boolean);
const wa = await startFakeWa({ registered, trustRoot: false });
const write = (message) => process.stdout.write(JSON.stringify(message) + '\n');
write({ url: wa.url, childEnv: wa.childEnv, preload: pathToFileURL(TRUST_TEST_ROOT_PRELOAD).href });

async function handle(command) {
  switch (command.do) {
    case 'scan':
      await wa.scan(command.qr);
      return {};
    case 'decrypted': {
      const record = await wa.nextDecryptedMessage({ id: command.id, since: command.since ?? 0, timeoutMs: command.timeoutMs ?? 15000 });
      return { text: record.text, decryptError: record.decryptError ?? null, encType: record.encType };
    }
    case 'retry':
      wa.sendRetryReceipt(command.from, command.id);
      return {};
    case 'fail_sends':
      wa.failSendsWith(command.code, { to: command.to });
      return {};
    case 'timelock':
      wa.setReachoutTimelock({ isActive: true, enforcementEnds: command.until });
      return {};
    case 'count':
      return { count: wa.decrypted.length };
    default:
      throw new Error('unknown command ' + command.do);
  }
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  queue = queue.then(() => handle(command).then(
    (result) => write({ ok: true, ...result }),
    (error) => write({ ok: false, error: String(error?.message ?? error) }),
  ));
});
lines.on('close', async () => {
  await wa.stop();
  process.exit(0);
});
