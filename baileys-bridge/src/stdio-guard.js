// @ts-check
// stdout belongs to the protocol. Dependencies do not know that: libsignal prints `console.info("Closing session:",
// …)` during normal operation, and one stray line would corrupt the host's stream. So the protocol gets its own
// handle on stdout, and everything else that writes there — console.* and process.stdout.write — goes to stderr,
// console output as JSON log lines like the rest of our logs.

import { format } from 'node:util';

/** @typedef {'log' | 'info' | 'debug' | 'trace' | 'warn' | 'error'} ConsoleMethod */
/** @type {Record<ConsoleMethod, 'info' | 'debug' | 'trace' | 'warn' | 'error'>} */
const CONSOLE_LEVELS = { log: 'info', info: 'info', debug: 'debug', trace: 'trace', warn: 'warn', error: 'error' };

/** @typedef {{ write(chunk: string, callback?: (error?: Error | null) => void): boolean }} ProtocolWriter */

/**
 * Returns a writer for protocol output; must run before anything else writes to stdout.
 * @param {import('./logger.js').Logger} logger
 * @param {{ stdout?: NodeJS.WriteStream, consoleObject?: Pick<Console, ConsoleMethod> }} [options]
 * @returns {ProtocolWriter}
 */
export function reserveStdoutForProtocol(logger, { stdout = process.stdout, consoleObject = console } = {}) {
  const writeToStdout = stdout.write.bind(stdout);

  const strayLogger = logger.child({ source: 'stdout' });
  /**
   * @param {string | Uint8Array} chunk
   * @param {BufferEncoding | ((error?: Error | null) => void)} [encoding]
   * @param {(error?: Error | null) => void} [callback]
   */
  const swallow = (chunk, encoding, callback) => {
    const text = Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
    if (text.trim() !== '') strayLogger.info(text.replace(/\r?\n$/, ''));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
  stdout.write = /** @type {NodeJS.WriteStream['write']} */ (swallow);

  const consoleLogger = logger.child({ source: 'console' });
  for (const [method, level] of /** @type {[ConsoleMethod, 'info'][]} */ (Object.entries(CONSOLE_LEVELS))) {
    consoleObject[method] = (/** @type {unknown[]} */ ...args) => consoleLogger[level](format(...args));
  }
  return { write: (chunk, callback) => writeToStdout(chunk, callback) };
}
