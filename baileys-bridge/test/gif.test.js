// The GIF transcoder's limits with the bundled ffmpeg: a size cap on the GIF and on the MP4, a timeout, and no file
// left behind when it gives up.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFfmpeg, GifConverter } from '../src/gif.js';

const ffmpegPath = await findFfmpeg({});
const skip = ffmpegPath ? false : 'no bundled ffmpeg on this platform';

/** The same hand-written 1×1 two-frame GIF as the bridge test: 85 bytes that become an MP4 of about 1.8 KB. */
function twoFrameGif() {
  const frame = (lzw) => [0x21, 0xf9, 4, 0, 10, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, lzw, 0x01, 0];
  return Buffer.from([
    ...Buffer.from('GIF89a'), 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
    0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0,
    ...frame(0x44), ...frame(0x4c),
    0x3b,
  ]);
}

function folder(t) {
  const dir = mkdtempSync(join(tmpdir(), 'gif-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.gif');
  writeFileSync(input, twoFrameGif());
  const out = join(dir, 'out');
  let n = 0;
  return { dir, input, out, tempPath: async (suffix) => join(dir, `${n++}-${suffix}.part`) };
}

const leftovers = (dir) => readdirSync(dir).filter((name) => name !== 'in.gif');

test('a GIF over the size cap is not transcoded', { skip }, async (t) => {
  const { dir, input, tempPath } = folder(t);
  const converter = new GifConverter({ ffmpegPath, maxBytes: 50 });
  await assert.rejects(converter.convert(input, tempPath), /GIF of 85 bytes exceeds the limit of 50 bytes/);
  assert.deepEqual(leftovers(dir), []);
});

test('an MP4 that reaches the size cap is refused and removed', { skip }, async (t) => {
  const { dir, input, tempPath } = folder(t);
  const converter = new GifConverter({ ffmpegPath, maxBytes: 500 });
  await assert.rejects(converter.convert(input, tempPath), /video exceeds the limit of 500 bytes/);
  assert.deepEqual(leftovers(dir), []);
});

test('a conversion over the timeout is killed', { skip }, async (t) => {
  const { dir, input, tempPath } = folder(t);
  const converter = new GifConverter({ ffmpegPath, timeoutMs: 1 });
  await assert.rejects(converter.convert(input, tempPath), /ffmpeg took longer than 1 ms/);
  assert.deepEqual(leftovers(dir), []);
});

test('the MP4 and its thumbnail are removed by cleanup', { skip }, async (t) => {
  const { dir, input, tempPath } = folder(t);
  const video = await new GifConverter({ ffmpegPath, maxBytes: 1024 * 1024 }).convert(input, tempPath);
  assert.equal(leftovers(dir).length, 2);
  assert.deepEqual([...video.jpegThumbnail.subarray(0, 2)], [0xff, 0xd8]);
  await video.cleanup();
  assert.deepEqual(leftovers(dir), []);
});
