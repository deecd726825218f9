import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLineParser, ProtocolChannel, BridgeError, AuthCallError } from '../src/protocol.js';
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

function channelPair(authTimeoutMs = 1000) {
  const input = new PassThrough();
  const output = new PassThrough();
  const written = [];
  output.on('data', (chunk) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) written.push(JSON.parse(line));
  });
  const { logger } = memoryLogger();
  const channel = new ProtocolChannel({ input, output, logger, authTimeoutMs });
  const finished = channel.start();
  return { input, output, written, channel, finished };
}

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
