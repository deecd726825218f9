// Media through the real bridge process (src/main.js, real Baileys) and the fake WhatsApp server's loopback media
// host: files in the host's data folder both ways, never base64 in a protocol line, and a bridge that keeps
// answering while a 100 MB video is on its way.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { linkedMediaBridge } from '../test-support/linked-bridge.js';

const CONTACT = '255755000001';
const CONTACT_JID = `${CONTACT}@s.whatsapp.net`;
const SESSION = 'INST-01-0000001';
const LOGIN_WAIT = { timeoutMs: 30000 };
const MB = 1024 * 1024;

const linkedBridge = (t) => linkedMediaBridge(t, { session: SESSION, contact: CONTACT, media: { keepUploads: false } });

/** Writes `size` bytes to `path` in 1 MiB blocks, so the test itself never holds the file in memory. */
async function writeBigFile(path, size) {
  const block = randomBytes(MB);
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += block.length) {
    hash.update(block);
    if (!out.write(block)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

test('a ping sent while a 100 MB video is being sent is answered promptly', { timeout: 180000 }, async (t) => {
  const { wa, bridge, dataDir } = await linkedBridge(t);
  mkdirSync(join(dataDir, 'media'));
  const path = join(dataDir, 'media', 'video-100mb');
  const size = 100 * MB;
  await writeBigFile(path, size);

  const send = bridge.request(
    'send',
    { session: SESSION, to: CONTACT_JID, messageId: '3EB0BIGVIDEO0001', media: { kind: 'video', path, mimetype: 'video/mp4' }, caption: 'big' },
    { timeoutMs: 150000 },
  );
  let sendDone = false;
  send.finally(() => (sendDone = true));
  const roundTrips = [];
  while (!sendDone) {
    const started = performance.now();
    const pong = await bridge.request('ping', {}, { timeoutMs: 60000 });
    assert.equal(pong.ok, true);
    if (!sendDone) roundTrips.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sent = await send;
  assert.equal(sent.ok, true, JSON.stringify(sent));
  const upload = wa.media.uploads.at(-1);
  assert.ok(upload.path.startsWith('/mms/video/'), upload.path);
  assert.ok(upload.size >= size, `uploaded ${upload.size} bytes`); // encrypted: padded plus a 10-byte MAC
  assert.ok(roundTrips.length >= 3, `only ${roundTrips.length} pings ran during the send`);
  const slowest = Math.max(...roundTrips);
  t.diagnostic(`${roundTrips.length} pings during the send, slowest ${Math.round(slowest)} ms`);
  // Generous for a busy machine; with the video as one base64 line this took tens of seconds.
  assert.ok(slowest < 3000, `slowest ping took ${Math.round(slowest)} ms: ${roundTrips.map(Math.round).join(', ')}`);
  const seen = await wa.nextDecryptedMessage({ id: '3EB0BIGVIDEO0001', since: 0 });
  assert.equal(seen.message.videoMessage.caption, 'big');
  assert.equal(Number(seen.message.videoMessage.fileLength), size);
});

test('inbound media is written to the data folder under its SHA-256 and announced by path', { timeout: 90000 }, async (t) => {
  const { wa, bridge, dataDir } = await linkedBridge(t);
  const bytes = randomBytes(300 * 1024);
  await wa.sendMedia(CONTACT, { type: 'document', bytes, mimetype: 'application/pdf', fields: { fileName: 'report.pdf' } });
  const event = await bridge.waitForEvent(SESSION, 'message_media', () => true, LOGIN_WAIT);
  const { media } = event.data;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  assert.deepEqual(media, {
    path: join(dataDir, 'bridge-media', sha256),
    sha256,
    size: bytes.length,
    mimetype: 'application/pdf',
    fileName: 'report.pdf',
  });
  assert.equal(readFileSync(media.path).equals(bytes), true);
  assert.equal(JSON.stringify(event).includes(bytes.toString('base64').slice(0, 64)), false, 'no base64 of the media in the line');
});
