// The test network guard (test-support/no-network.js, preloaded by `npm test`): anything but loopback is refused
// before a socket exists, loopback keeps working, and child processes inherit the guard.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { GUARD_CODE, takeRefusals } from '../test-support/no-network.js';

function refusedSocket(socket) {
  // Decided before Socket#connect creates its OS handle (a TLS socket carries an unconnected one from its
  // constructor): no lookup, no SYN.
  if (!(socket instanceof tls.TLSSocket)) assert.equal(socket._handle, null);
  socket.once('lookup', () => assert.fail('the guarded socket looked its host up'));
  socket.once('connect', () => assert.fail('the guarded socket connected'));
  return new Promise((resolve) => socket.once('error', resolve));
}

function listen(host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((connection) => connection.end('pong'));
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

function readAll(socket) {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

test('connections to anything but loopback are refused before a socket is opened', async () => {
  takeRefusals();
  const errors = [
    await refusedSocket(net.connect(80, '10.0.0.1')),
    await refusedSocket(net.createConnection({ host: '192.0.2.1', port: 443 })),
    await refusedSocket(new net.Socket().connect(80, 'example.invalid')),
    await refusedSocket(tls.connect({ host: 'web.whatsapp.com', port: 443 })),
    await refusedSocket(net.connect({ host: '::ffff:10.0.0.1', port: 80 })),
    await new Promise((resolve) => http.get('http://example.invalid/', () => {}).once('error', resolve)),
    await fetch('http://10.0.0.1/').then(() => assert.fail('fetch went through'), (error) => error.cause),
  ];
  for (const error of errors) assert.equal(error.code, GUARD_CODE, error.message);
  assert.match(errors[0].message, /refused a connection to 10\.0\.0\.1:80: tests may only reach 127\.0\.0\.0\/8, ::1 and localhost/);
  assert.equal(takeRefusals().length, errors.length);
});

test('DNS lookups and queries of real names are refused', async () => {
  takeRefusals();
  const lookup = await new Promise((resolve) => dns.lookup('example.invalid', (error) => resolve(error)));
  assert.equal(lookup.code, GUARD_CODE);
  await assert.rejects(dns.promises.lookup('web.whatsapp.com'), { code: GUARD_CODE });
  const query = await new Promise((resolve) => dns.resolve4('example.invalid', (error) => resolve(error)));
  assert.equal(query.code, GUARD_CODE);
  await assert.rejects(new dns.promises.Resolver().resolveTxt('example.invalid'), { code: GUARD_CODE });
  const reverse = await new Promise((resolve) => dns.lookupService('10.0.0.1', 80, (error) => resolve(error)));
  assert.equal(reverse.code, GUARD_CODE);
  assert.equal(takeRefusals().length, 5);
});

test('loopback addresses and localhost still work', async () => {
  takeRefusals();
  const server = await listen('127.0.0.1');
  const { port } = server.address();
  try {
    assert.equal(await readAll(net.connect(port, '127.0.0.1')), 'pong');
    assert.equal(await readAll(net.connect({ port, host: 'localhost', family: 4 })), 'pong');
    assert.equal(await readAll(net.connect(port)), 'pong'); // no host means localhost
    const { address } = await dns.promises.lookup('localhost', { family: 4 });
    assert.equal(address, '127.0.0.1');
  } finally {
    server.close();
  }
  const http1 = http.createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1');
  await new Promise((resolve) => http1.once('listening', resolve));
  try {
    assert.equal(await (await fetch(`http://127.0.0.1:${http1.address().port}/`)).text(), 'ok');
  } finally {
    http1.close();
  }
  let ipv6;
  try {
    ipv6 = await listen('::1');
  } catch {
    // no IPv6 loopback on this machine
  }
  if (ipv6) {
    try {
      assert.equal(await readAll(net.connect(ipv6.address().port, '::1')), 'pong');
    } finally {
      ipv6.close();
    }
  }
  assert.deepEqual(takeRefusals(), []);
});

test('a child process inherits the guard and fails when it is refused', () => {
  const child = spawnSync(
    process.execPath,
    ['-e', "require('node:net').connect(80, '10.0.0.1').on('error', (e) => console.log(e.code))"],
    { env: process.env, encoding: 'utf8' },
  );
  assert.equal(child.stdout.trim(), GUARD_CODE, child.stderr);
  assert.match(child.stderr, /\[no-network\] test network guard refused a connection to 10\.0\.0\.1:80/);
  assert.equal(child.status, 1);
});
