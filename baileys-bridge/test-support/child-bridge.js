// Runs `node src/main.js` as a child process, the way the C# host does, with an in-memory auth store.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FakeHostAuthStore } from './harness.js';

const bridgeDir = fileURLToPath(new URL('..', import.meta.url));

/** Where tests point Baileys (`open`'s webSocketUrl): a closed loopback port, so a connect fails at once. */
export const CLOSED_LOOPBACK_WS = 'ws://127.0.0.1:9/ws';

/** `nodeArgs` / `execArgv`: extra node options before the script, e.g. `['--import', TRUST_TEST_ROOT_PRELOAD]` for a fake WhatsApp. */
export function spawnBridge({ env = {}, authStore = new FakeHostAuthStore(), execArgv = [], nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...execArgv, ...nodeArgs, 'src/main.js'], {
    cwd: bridgeDir,
    env: { ...process.env, WAPBRIDGE_BRIDGE_LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages = [];
  const stderrLines = [];
  const waiters = new Set();
  let pending = '';
  let nextId = 1;

  const send = (message) => child.stdin.write(JSON.stringify(message) + '\n');
  // A killed bridge may still have auth calls in flight: answering them hits a closed pipe, which is expected.
  child.stdin.on('error', () => {});

  child.stdout.on('data', (chunk) => {
    pending += chunk.toString('utf8');
    let newline;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const message = JSON.parse(pending.slice(0, newline)); // stdout must carry protocol lines only
      pending = pending.slice(newline + 1);
      if (message.type === 'auth') send({ type: 'auth_result', id: message.id, ...authStore.answer(message) });
      messages.push(message);
      for (const waiter of [...waiters]) waiter();
    }
  });
  child.stderr.on('data', (chunk) => stderrLines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  function waitFor(predicate, { timeoutMs = 10000, description = 'message' } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find(predicate);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${description}\nstdout:\n${messages.map((m) => JSON.stringify(m)).join('\n')}` +
              `\nstderr:\n${stderrLines.slice(-20).join('\n')}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  function request(method, params = {}, options) {
    const id = `r${nextId++}`;
    send({ type: 'request', id, method, params });
    return waitFor((m) => m.type === 'response' && m.id === id, { description: `response to ${method}`, ...options });
  }

  const waitForEvent = (session, event, predicate = () => true, options = {}) =>
    waitFor((m) => m.type === 'event' && m.session === session && m.event === event && predicate(m.data), {
      description: `${event} event of ${session}`,
      ...options,
    });

  function kill() {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  return { child, messages, stderrLines, authStore, send, request, waitFor, waitForEvent, exited, kill };
}
