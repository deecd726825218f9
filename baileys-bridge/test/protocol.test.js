import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLineParser, readLineHead, ProtocolChannel, BridgeError, AuthCallError } from '../src/protocol.js';
import { createLogger } from '../src/logger.js';

function memoryLogger() {
  const lines = [];
  return { lines, logger: createLogger({ level: 'debug', stream: { write: (line) => lines.push(JSON.parse(line)) } }) };
}

test('line parser joins partial lines across chunks', () => {
  const { logger } = memoryLogger();
  const seen = [];
  const parser = createLineParser((message) => seen.push(message), logger);
  parser.push(Buffer.from('{"type":"req'));
  parser.push(Buffer.from('uest","id":"r1"}'));
  assert.deepEqual(seen, []);
  parser.push(Buffer.from('\n'));
  assert.deepEqual(seen, [{ type: 'request', id: 'r1' }]);
});

test('line parser handles several messages in one chunk, CRLF and blank lines', () => {
  const { logger } = memoryLogger();
  const seen = [];
  const parser = createLineParser((message) => seen.push(message), logger);
  parser.push('{"a":1}\n{"a":2}\r\n\n{"a":3}\n{"a":');
  assert.deepEqual(seen, [{ a: 1 }, { a: 2 }, { a: 3 }]);
  parser.push('4}\n');
  assert.deepEqual(seen.at(-1), { a: 4 });
});

test('line parser keeps multi-byte UTF-8 characters split across chunks intact', () => {
  const { logger } = memoryLogger();
  const seen = [];
  const parser = createLineParser((message) => seen.push(message), logger);
  const bytes = Buffer.from('{"text":"Grüße 👋"}\n');
  parser.push(bytes.subarray(0, 12));
  parser.push(bytes.subarray(12));
  assert.deepEqual(seen, [{ text: 'Grüße 👋' }]);
});

test('line parser ignores an invalid JSON line with a log and keeps going', () => {
  const { logger, lines } = memoryLogger();
  const seen = [];
  const parser = createLineParser((message) => seen.push(message), logger);
  parser.push('not json\n[1,2]\n{"ok":true}\n');
  assert.deepEqual(seen, [{ ok: true }]);
  assert.equal(lines.filter((line) => line.level === 'warn').length, 2);
  assert.match(lines[0].msg, /invalid JSON/);
});

test('line parser: a 40 MB line in 64 KiB chunks costs linear time (the old parser re-scanned it per chunk: ~9 s)', () => {
  const { logger } = memoryLogger();
  const seen = [];
  const parser = createLineParser((message) => seen.push(message), logger, { maxLineBytes: 64 * 1024 * 1024 });
  const payload = 'x'.repeat(40 * 1024 * 1024);
  const line = Buffer.from(`{"type":"request","id":"r1","blob":"${payload}"}\n`);
  const started = performance.now();
  for (let offset = 0; offset < line.length; offset += 65536) parser.push(line.subarray(offset, offset + 65536));
  const elapsed = performance.now() - started;
  assert.equal(seen.length, 1);
  assert.equal(seen[0].blob.length, payload.length);
  // Generous for a shared machine: linear parsing takes well under a second, the quadratic one took ~9 s.
  assert.ok(elapsed < 3000, `parsing took ${Math.round(elapsed)} ms`);
});

test('line parser refuses a line over the limit as soon as it crosses it, skips the rest and keeps serving', () => {
  const { logger, lines } = memoryLogger();
  const seen = [];
  const refused = [];
  const parser = createLineParser((message) => seen.push(message), logger, {
    maxLineBytes: 1024,
    onTooLong: (info) => refused.push(info),
  });
  parser.push('{"type":"request","id":"r9","method":"send","params":{"text":"');
  parser.push('y'.repeat(2000));
  // Refused before its newline arrived: nothing of it is kept waiting for the end.
  assert.equal(refused.length, 1);
  assert.equal(refused[0].type, 'request');
  assert.equal(refused[0].id, 'r9');
  parser.push('y'.repeat(5000));
  parser.push('"}}\n{"type":"request","id":"r10","method":"ping"}\n');
  assert.equal(refused.length, 1);
  assert.deepEqual(seen, [{ type: 'request', id: 'r10', method: 'ping' }]);
  const error = lines.find((line) => line.level === 'error');
  assert.equal(error.msg, 'refused a protocol line over the size limit');
  assert.equal(error.id, 'r9');
  assert.equal(error.maxLineBytes, 1024);
});

test('line parser: a line exactly at the limit passes; a refused line without a readable id is only logged', () => {
  const { logger, lines } = memoryLogger();
  const seen = [];
  const refused = [];
  const parser = createLineParser((message) => seen.push(message), logger, { maxLineBytes: 20, onTooLong: (i) => refused.push(i) });
  parser.push('{"a":"123456789012"}\n'); // 20 bytes before the newline
  parser.push('[' + '1,'.repeat(50) + '1]\n{"b":1}\n');
  assert.deepEqual(seen, [{ a: '123456789012' }, { b: 1 }]);
  assert.deepEqual(refused.map((r) => [r.type, r.id]), [[null, null]]);
  assert.equal(lines.filter((line) => line.level === 'error').length, 1);
});

test('readLineHead reads type and id from the start of a line', () => {
  assert.deepEqual(readLineHead(Buffer.from('{"type":"auth_result","id":"a5","ok":true,"result":{"v')), { type: 'auth_result', id: 'a5' });
  assert.deepEqual(readLineHead(Buffer.from('{"type":"request","id":17,"me')), { type: 'request', id: 17 });
  assert.deepEqual(readLineHead(Buffer.from('{"type":"requ')), { type: null, id: null });
});

function channelPair(authTimeoutMs = 1000, maxLineBytes = undefined) {
  const input = new PassThrough();
  const output = new PassThrough();
  const written = [];
  output.on('data', (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) written.push(JSON.parse(line));
  });
  const { logger } = memoryLogger();
  const channel = new ProtocolChannel({ input, output, logger, authTimeoutMs, maxLineBytes });
  const finished = channel.start();
  return { input, output, written, channel, finished };
}

test('a request line over the limit is answered line_too_long at once; an auth_result over it fails its call', async () => {
  const { input, written, channel, finished } = channelPair(5000, 4096);
  channel.onRequest(async ({ method }) => ({ method }));
  input.write('{"type":"request","id":"r1","method":"send","params":{"media":{"base64":"' + 'A'.repeat(8192));
  await settle();
  assert.deepEqual(written.find((m) => m.id === 'r1'), {
    type: 'response',
    id: 'r1',
    ok: false,
    error: { code: 'line_too_long', message: 'line exceeds the limit of 4096 bytes (WAPBRIDGE_BRIDGE_MAX_LINE_BYTES)' },
  });
  input.write('A'.repeat(100000) + '"}}}\n{"type":"request","id":"r2","method":"ping"}\n');
  await settle();
  assert.deepEqual(written.find((m) => m.id === 'r2'), { type: 'response', id: 'r2', ok: true, result: { method: 'ping' } });

  const call = channel.callAuth('S1', 'get_keys', {});
  await settle();
  const { id } = written.find((m) => m.type === 'auth');
  input.write(`{"type":"auth_result","id":"${id}","ok":true,"result":{"values":{"1":"${'k'.repeat(5000)}"}}}\n`);
  await assert.rejects(call, (error) => error instanceof AuthCallError && error.code === 'line_too_long');
  input.end();
  await finished;
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

test('requests are answered with their id; BridgeError codes and unexpected errors map to responses', async () => {
  const { input, written, channel, finished } = channelPair();
  channel.onRequest(async ({ method, params }) => {
    if (method === 'echo') return { echoed: params.value };
    if (method === 'refuse') throw new BridgeError('not_connected', 'nope');
    throw new TypeError('boom');
  });
  input.write('{"type":"request","id":"r1","method":"echo","params":{"value":7}}\n');
  input.write('{"type":"request","id":"r2","method":"refuse","params":{}}\n{"type":"request","id":"r3","method":"x"}\n');
  input.write('{"type":"something_new","id":"z"}\n');
  await settle();
  assert.deepEqual(written.find((m) => m.id === 'r1'), { type: 'response', id: 'r1', ok: true, result: { echoed: 7 } });
  assert.deepEqual(written.find((m) => m.id === 'r2').error, { code: 'not_connected', message: 'nope' });
  assert.equal(written.find((m) => m.id === 'r3').error.code, 'internal');
  assert.equal(written.length, 3, 'unknown types are ignored');
  input.end();
  await finished;
});

test('auth calls resolve on ok, reject with AuthCallError on ok:false and on timeout', async () => {
  const { input, written, channel, finished } = channelPair(50);
  const loaded = channel.callAuth('S1', 'load_creds', {});
  const refused = channel.callAuth('S1', 'get_keys', { category: 'pre-key', ids: ['1'] });
  const unanswered = channel.callAuth('S1', 'set_keys', { data: {} });
  await settle();
  const [first, second] = written;
  assert.deepEqual(first, { type: 'auth', id: first.id, session: 'S1', op: 'load_creds', params: {} });
  input.write(JSON.stringify({ type: 'auth_result', id: first.id, ok: true, result: { creds: null } }) + '\n');
  input.write(
    JSON.stringify({ type: 'auth_result', id: second.id, ok: false, error: { code: 'db', message: 'down' } }) + '\n',
  );
  assert.deepEqual(await loaded, { creds: null });
  await assert.rejects(refused, (error) => error instanceof AuthCallError && error.code === 'db');
  await assert.rejects(unanswered, (error) => error instanceof AuthCallError && error.code === 'timeout');
  input.end();
  await finished;
});

test('pending auth calls fail when stdin ends', async () => {
  const { input, channel, finished } = channelPair(5000);
  const pending = channel.callAuth('S1', 'load_creds', {});
  input.end();
  await finished;
  await assert.rejects(pending, (error) => error instanceof AuthCallError && error.code === 'host_gone');
});
