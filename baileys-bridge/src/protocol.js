// @ts-check
// The wire protocol with the C# host (see ../PROTOCOL.md): one JSON object per line on stdin/stdout,
// request/response correlation for host requests and promise-based auth calls from the bridge to the host.

import { Buffer } from 'node:buffer';

export const PROTOCOL_VERSION = 2;

/** An error with a protocol error code (`unknown_session`, `not_connected`, …) sent back in a response. */
export class BridgeError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {object} [details] extra fields of the response's `error` (e.g. `statusCode`, `restriction`)
   */
  constructor(code, message, details = undefined) {
    super(message);
    this.name = 'BridgeError';
    this.code = code;
    this.details = details;
  }
}

/** Raised when the host answers an auth call with ok:false or does not answer in time. */
export class AuthCallError extends Error {
  /**
   * @param {string} op
   * @param {string} code
   * @param {string} message
   */
  constructor(op, code, message) {
    super(`auth ${op} failed: ${code}: ${message}`);
    this.name = 'AuthCallError';
    this.op = op;
    this.code = code;
  }
}

/** @typedef {{ type: string | null, id: string | number | null }} LineHead */
/** @typedef {LineHead & { bytesSoFar: number, maxLineBytes: number }} RefusedLine */
/** A parsed protocol line: a JSON object whose fields are checked where they are read. */
/** @typedef {Record<string, any>} ProtocolMessage */
/** @typedef {{ id: string | number, method: unknown, params: any }} HostRequest */
/** @typedef {{ on(event: string, listener: (...args: any[]) => void): unknown, resume?: () => unknown }} InputStream */
/** @typedef {{ write(text: string): unknown }} OutputStream */

/** The longest line either side accepts by default: requests carry paths, not media, so 4 MiB is plenty. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;
/** How much of a refused line we keep to read its `type` and `id` from. */
const TOO_LONG_HEAD_BYTES = 1024;
const NEWLINE = 0x0a;

/**
 * The `type` and `id` of a line we refused, read from its first bytes (both come first in every message this
 * protocol writes); null fields when they are not there.
 * @param {Buffer} head
 * @returns {LineHead}
 */
export function readLineHead(head) {
  const text = head.toString('utf8');
  const type = /"type"\s*:\s*"([^"\\]{1,40})"/.exec(text)?.[1] ?? null;
  const id = /"id"\s*:\s*(?:"([^"\\]{1,200})"|(\d{1,20}))/.exec(text);
  return { type, id: id ? (id[1] ?? Number(id[2])) : null };
}

/**
 * Splits a byte stream into lines and hands each parsed JSON object to onMessage.
 * Cost is linear in the bytes read: each chunk is scanned once for newlines and a line's chunks are joined once,
 * when its newline arrives. A line longer than `maxLineBytes` is refused as soon as it crosses the limit:
 * `onTooLong({ type, id, bytesSoFar })` is called with what its start says, and the rest of it is discarded unread up to
 * the next newline. A line that is not a JSON object is logged and skipped, so one bad line cannot stop the reader.
 * @param {(message: ProtocolMessage) => void} onMessage
 * @param {import('./logger.js').Logger} logger
 * @param {{ maxLineBytes?: number, onTooLong?: (line: RefusedLine) => void }} [options]
 */
export function createLineParser(onMessage, logger, { maxLineBytes = DEFAULT_MAX_LINE_BYTES, onTooLong } = {}) {
  /** @type {Buffer[]} */
  let parts = [];
  let length = 0;
  /** @type {{ bytes: number } | null} while skipping the rest of a refused line */
  let discarding = null;

  /** @param {Buffer} bytes */
  function handleLine(bytes) {
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    const text = bytes.toString('utf8', 0, end);
    if (text.trim() === '') return;
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      logger.warn({ line: text.slice(0, 200), error: /** @type {Error} */ (error).message }, 'ignoring invalid JSON line on stdin');
      return;
    }
    if (!message || typeof message !== 'object' || Array.isArray(message)) {
      logger.warn({ line: text.slice(0, 200) }, 'ignoring stdin line that is not a JSON object');
      return;
    }
    onMessage(message);
  }

  /**
   * @param {Buffer} head
   * @param {number} bytes
   */
  function refuse(head, bytes) {
    const info = { ...readLineHead(head), bytesSoFar: bytes, maxLineBytes };
    logger.error(info, 'refused a protocol line over the size limit');
    onTooLong?.(info);
  }

  /**
   * Adds bytes of the current line (no newline in them); starts discarding once the line is over the limit.
   * @param {Buffer} bytes
   */
  function append(bytes) {
    if (bytes.length === 0) return;
    if (discarding) {
      discarding.bytes += bytes.length;
      return;
    }
    if (length + bytes.length > maxLineBytes) {
      const head = Buffer.concat([...parts, bytes.subarray(0, TOO_LONG_HEAD_BYTES)]).subarray(0, TOO_LONG_HEAD_BYTES);
      discarding = { bytes: length + bytes.length };
      parts = [];
      length = 0;
      refuse(head, discarding.bytes);
      return;
    }
    parts.push(bytes);
    length += bytes.length;
  }

  function finishLine() {
    if (discarding) {
      logger.debug({ bytes: discarding.bytes }, 'skipped the rest of a refused line');
      discarding = null;
      return;
    }
    const line = parts.length === 1 ? parts[0] : Buffer.concat(parts, length);
    parts = [];
    length = 0;
    handleLine(line);
  }

  return {
    /** @param {string | Buffer} chunk */
    push(chunk) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let start = 0;
      let newline;
      while ((newline = bytes.indexOf(NEWLINE, start)) !== -1) {
        append(bytes.subarray(start, newline));
        finishLine();
        start = newline + 1;
      }
      append(bytes.subarray(start));
    },
    end() {
      if (length > 0 || discarding) finishLine(); // a last line without its newline still counts
    },
  };
}

/**
 * The bridge side of the protocol: reads host messages from `input`, writes ours to `output`.
 * `onRequest(request)` returns (a promise of) the result object or throws a BridgeError.
 */
export class ProtocolChannel {
  /**
   * @param {object} options
   * @param {InputStream} options.input
   * @param {OutputStream} options.output
   * @param {import('./logger.js').Logger} options.logger
   * @param {number} [options.authTimeoutMs]
   * @param {number} [options.maxLineBytes]
   */
  constructor({ input, output, logger, authTimeoutMs = 30000, maxLineBytes = DEFAULT_MAX_LINE_BYTES }) {
    this.input = input;
    this.maxLineBytes = maxLineBytes;
    this.output = output;
    this.logger = logger;
    this.authTimeoutMs = authTimeoutMs;
    /** @type {Map<string | number | null, { op: string, resolve: (result: any) => void, reject: (error: Error) => void, timer: NodeJS.Timeout }>} */
    this.pendingAuth = new Map();
    this.nextAuthId = 1;
    /** @type {(request: HostRequest) => Promise<unknown>} */
    this.requestHandler = async () => {
      throw new BridgeError('internal', 'no request handler');
    };
  }

  /** @param {(request: HostRequest) => Promise<unknown>} handler */
  onRequest(handler) {
    this.requestHandler = handler;
  }

  /**
   * Starts reading; resolves once the input stream has ended (the host closed our stdin).
   * @returns {Promise<void>}
   */
  start() {
    const parser = createLineParser((message) => this.#dispatch(message), this.logger, {
      maxLineBytes: this.maxLineBytes,
      onTooLong: (line) => this.#refuseLine(line),
    });
    return new Promise((/** @type {() => void} */ resolve) => {
      let ended = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        parser.end();
        this.#failPendingAuth('host_gone', 'stdin closed');
        resolve();
      };
      this.input.on('data', (/** @type {string | Buffer} */ chunk) => parser.push(chunk));
      this.input.on('end', finish);
      this.input.on('close', finish);
      this.input.on('error', (/** @type {Error} */ error) => {
        this.logger.error({ err: error }, 'stdin error');
        finish();
      });
      if (typeof this.input.resume === 'function') this.input.resume();
    });
  }

  /** @param {ProtocolMessage} message */
  send(message) {
    try {
      this.output.write(JSON.stringify(message) + '\n');
    } catch (error) {
      this.logger.error({ err: error, type: message?.type }, 'could not write protocol message');
    }
  }

  /**
   * @param {string} session
   * @param {string} event
   * @param {object} data
   */
  sendEvent(session, event, data) {
    this.send({ type: 'event', session, event, data });
  }

  /**
   * Asks the host for auth state (`load_creds`, `get_keys`, …); rejects with AuthCallError on ok:false/timeout.
   * @param {string} session
   * @param {string} op
   * @param {object} [params]
   * @returns {Promise<any>} the host's `result` object, whose shape depends on `op`
   */
  callAuth(session, op, params = {}) {
    const id = `a${this.nextAuthId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAuth.delete(id);
        reject(new AuthCallError(op, 'timeout', `no answer within ${this.authTimeoutMs} ms`));
      }, this.authTimeoutMs);
      this.pendingAuth.set(id, { op, resolve, reject, timer });
      this.send({ type: 'auth', id, session, op, params });
    });
  }

  /** @param {ProtocolMessage} message */
  #dispatch(message) {
    switch (message.type) {
      case 'request':
        void this.#handleRequest(message);
        break;
      case 'auth_result':
        this.#handleAuthResult(message);
        break;
      default:
        this.logger.debug({ type: message.type }, 'ignoring message of unknown type');
    }
  }

  /** @param {ProtocolMessage} request */
  async #handleRequest(request) {
    const { id, method } = request;
    if (typeof id !== 'string' && typeof id !== 'number') {
      this.logger.warn({ method }, 'ignoring request without id');
      return;
    }
    try {
      const result = await this.requestHandler({ id, method, params: request.params ?? {} });
      this.send({ type: 'response', id, ok: true, result: result ?? {} });
    } catch (error) {
      const isBridgeError = error instanceof BridgeError;
      if (!isBridgeError) this.logger.error({ err: error, method, id }, 'request failed unexpectedly');
      this.send({
        type: 'response',
        id,
        ok: false,
        error: {
          ...(isBridgeError ? error.details : undefined),
          code: isBridgeError ? error.code : 'internal',
          message: String(/** @type {Error | undefined} */ (error)?.message ?? error),
        },
      });
    }
  }

  /**
   * A line over the limit: its request is answered (or its auth call failed) when its start names it.
   * @param {LineHead} line
   */
  #refuseLine({ type, id }) {
    const message = `line exceeds the limit of ${this.maxLineBytes} bytes (WAPBRIDGE_BRIDGE_MAX_LINE_BYTES)`;
    if (type === 'request' && id !== null) {
      this.send({ type: 'response', id, ok: false, error: { code: 'line_too_long', message } });
    } else if (type === 'auth_result' && this.pendingAuth.has(id)) {
      this.#handleAuthResult({ id, ok: false, error: { code: 'line_too_long', message } });
    }
  }

  /** @param {ProtocolMessage} message */
  #handleAuthResult(message) {
    const pending = this.pendingAuth.get(message.id);
    if (!pending) {
      this.logger.warn({ id: message.id }, 'auth_result for an unknown or timed-out call');
      return;
    }
    this.pendingAuth.delete(message.id);
    clearTimeout(pending.timer);
    if (message.ok) {
      pending.resolve(message.result ?? {});
    } else {
      const code = message.error?.code ?? 'error';
      pending.reject(new AuthCallError(pending.op, code, message.error?.message ?? 'host refused auth call'));
    }
  }

  /**
   * @param {string} code
   * @param {string} reason
   */
  #failPendingAuth(code, reason) {
    for (const [id, pending] of this.pendingAuth) {
      clearTimeout(pending.timer);
      pending.reject(new AuthCallError(pending.op, code, reason));
      this.pendingAuth.delete(id);
    }
  }
}
