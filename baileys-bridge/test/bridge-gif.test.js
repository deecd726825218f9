// GIFs through the real bridge process and real Baileys: transcoded by the bundled ffmpeg into a looping MP4 that the
// contact decrypts as a `videoMessage` with `gifPlayback`, or sent as a document when there is no ffmpeg.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linkedMediaBridge } from '../test-support/linked-bridge.js';
import { findFfmpeg } from '../src/gif.js';

const CONTACT = '255755000001';
const CONTACT_JID = `${CONTACT}@s.whatsapp.net`;
const SESSION = 'INST-01-0000001';
// The optional dependency only exists for Linux x64; elsewhere the conversion test has nothing to run.
const BUNDLED_FFMPEG_PLATFORM = process.platform === 'linux' && process.arch === 'x64';

/** A 1×1 GIF89a looping over two frames (black, white) of 100 ms, written by hand: LZW codes clear, pixel, end. */
function twoFrameGif() {
  const frame = (lzw) => [0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, lzw, 0x01, 0];
  return Buffer.from([
    ...Buffer.from('GIF89a'), 1, 0, 1, 0, 0x80, 0, 0, // screen 1×1, global table of 2 colours
    0, 0, 0, 255, 255, 255,
    0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0, // loop forever
    ...frame(0x44), ...frame(0x4c),
    0x3b,
  ]);
}

async function linkedBridge(t, env = {}) {
  const { wa, bridge, dataDir } = await linkedMediaBridge(t, { session: SESSION, contact: CONTACT, env });
  mkdirSync(join(dataDir, 'media'));
  const gifPath = join(dataDir, 'media', 'dance.gif');
  writeFileSync(gifPath, twoFrameGif());
  return { wa, bridge, dataDir, gifPath };
}

const sendGif = (bridge, messageId, path) =>
  bridge.request(
    'send',
    { session: SESSION, to: CONTACT_JID, messageId, media: { kind: 'gif', path, mimetype: 'image/gif', fileName: 'dance.gif' }, caption: 'ngoma' },
    { timeoutMs: 60000 },
  );

const logEntries = (bridge) =>
  bridge.stderrLines.flatMap((line) => {
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });

test('the bundled ffmpeg is installed and runs', { skip: !BUNDLED_FFMPEG_PLATFORM }, async () => {
  const ffmpeg = await findFfmpeg({});
  assert.ok(ffmpeg?.includes('@ffmpeg-installer/linux-x64'), `bundled ffmpeg not found: ${ffmpeg}`);
  assert.match(execFileSync(ffmpeg, ['-hide_banner', '-encoders'], { encoding: 'utf8' }), /libx264/);
});

test('a GIF is sent as a looping MP4 video with its caption', { timeout: 90000, skip: !BUNDLED_FFMPEG_PLATFORM }, async (t) => {
  const { wa, bridge, dataDir, gifPath } = await linkedBridge(t);
  const sent = await sendGif(bridge, '3EB0GIFVIDEO0001', gifPath);
  assert.equal(sent.ok, true, JSON.stringify(sent));

  const seen = await wa.nextDecryptedMessage({ id: '3EB0GIFVIDEO0001', since: 0 });
  const video = seen.message.videoMessage;
  assert.ok(video, `expected a videoMessage, got ${Object.keys(seen.message)}`);
  assert.equal(video.gifPlayback, true);
  assert.equal(video.mimetype, 'video/mp4');
  assert.equal(video.caption, 'ngoma');
  assert.ok(video.jpegThumbnail?.length > 0, 'the video has a thumbnail');
  assert.ifError(seen.mediaError);
  assert.equal(seen.media.subarray(4, 8).toString('latin1'), 'ftyp', 'the uploaded media is an MP4');
  assert.equal(Number(video.fileLength), seen.media.length);
  assert.deepEqual(readdirSync(join(dataDir, 'bridge-media')), [], 'the transcoded files are removed after the send');
});

test('without ffmpeg a GIF is sent as a document and the log says why', { timeout: 90000 }, async (t) => {
  const { wa, bridge, gifPath } = await linkedBridge(t, { WAPBRIDGE_BRIDGE_FFMPEG: '/nonexistent/ffmpeg' });
  const sent = await sendGif(bridge, '3EB0GIFDOCUMENT1', gifPath);
  assert.equal(sent.ok, true, JSON.stringify(sent));

  const seen = await wa.nextDecryptedMessage({ id: '3EB0GIFDOCUMENT1', since: 0 });
  const document = seen.message.documentMessage;
  assert.ok(document, `expected a documentMessage, got ${Object.keys(seen.message)}`);
  assert.equal(document.mimetype, 'image/gif');
  assert.equal(document.fileName, 'dance.gif');
  assert.equal(document.caption, 'ngoma');
  assert.deepEqual(seen.media, twoFrameGif());
  const entry = logEntries(bridge).find((e) => e.reason === 'no_ffmpeg');
  assert.ok(entry, `no structured log of the fallback:\n${bridge.stderrLines.join('\n')}`);
  assert.equal(entry.messageId, '3EB0GIFDOCUMENT1');
});

test('a GIF ffmpeg cannot read is sent as a document and the log says why', { timeout: 90000, skip: !BUNDLED_FFMPEG_PLATFORM }, async (t) => {
  const { wa, bridge, dataDir, gifPath } = await linkedBridge(t);
  writeFileSync(gifPath, Buffer.from('GIF89a but not really a GIF'));
  const sent = await sendGif(bridge, '3EB0GIFBROKEN001', gifPath);
  assert.equal(sent.ok, true, JSON.stringify(sent));

  const seen = await wa.nextDecryptedMessage({ id: '3EB0GIFBROKEN001', since: 0 });
  assert.ok(seen.message.documentMessage, `expected a documentMessage, got ${Object.keys(seen.message)}`);
  const entry = logEntries(bridge).find((e) => e.reason === 'conversion_failed');
  assert.ok(entry, `no structured log of the failed conversion:\n${bridge.stderrLines.join('\n')}`);
  assert.match(JSON.stringify(entry.err), /ffmpeg exited/);
  assert.deepEqual(readdirSync(join(dataDir, 'bridge-media')), [], 'nothing is left after a failed conversion');
});
