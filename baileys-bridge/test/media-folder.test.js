// The bridge's media files in the host's data folder: written while hashed, limits, and crash leftovers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MediaFolder } from '../src/media.js';
import { createLogger } from '../src/logger.js';

const quiet = createLogger({ level: 'silent', stream: { write() {} } });

function dataDir(t) {
  const dir = mkdtempSync(join(tmpdir(), 'media-folder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a stream is written under its SHA-256 without a temp file left', async (t) => {
  const folder = new MediaFolder(dataDir(t));
  const chunks = ['part one, ', 'part two'];
  const file = await folder.writeInbound(Readable.from(chunks.map((c) => Buffer.from(c))));
  const sha256 = createHash('sha256').update(chunks.join('')).digest('hex');
  assert.deepEqual(file, { path: join(folder.inbound, sha256), sha256, size: 18 });
  assert.equal(readFileSync(file.path, 'utf8'), 'part one, part two');
  assert.deepEqual(readdirSync(folder.inbound), [sha256]);
});

test('media over the limit is refused while it streams and leaves nothing behind', async (t) => {
  const folder = new MediaFolder(dataDir(t));
  const endless = Readable.from((function* () {
    for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024);
  })());
  await assert.rejects(folder.writeInbound(endless, 10 * 1024), /exceeds the limit of 10240 bytes/);
  assert.deepEqual(readdirSync(folder.inbound), []);
});

test('temp files of bridges that are gone are removed at start; a running bridge keeps its own', async (t) => {
  const dir = dataDir(t);
  const inbound = join(dir, 'bridge-media');
  mkdirSync(inbound);
  // A pid that surely is not running: one of a child that already exited.
  const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
  const dead = join(inbound, `${deadPid}-aaaa.part`);
  const live = join(inbound, `${process.ppid}-bbbb.part`);
  const done = join(inbound, 'a'.repeat(64)); // finished files are the host's to take over
  for (const path of [dead, live, done]) writeFileSync(path, 'x');
  await new MediaFolder(dir).cleanLeftovers(quiet);
  assert.equal(existsSync(dead), false);
  assert.equal(existsSync(live), true);
  assert.equal(existsSync(done), true);
});

test('outbound paths must be absolute and inside the data folder', (t) => {
  const dir = dataDir(t);
  const folder = new MediaFolder(dir);
  assert.equal(folder.checkOutbound(join(dir, 'media', 'ab', 'x')), join(dir, 'media', 'ab', 'x'));
  for (const path of ['/etc/passwd', join(dir, '..', 'x'), 'media/x', '', undefined, dir]) {
    assert.throws(() => folder.checkOutbound(path), (error) => error.code === 'invalid_params', String(path));
  }
});
