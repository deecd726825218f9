// The wire protocol with the C# host (see ../PROTOCOL.md): one JSON object per line on stdin/stdout,
// request/response correlation for host requests and promise-based auth calls from the bridge to the host.

import { StringDecoder } from 'node:string_decoder';

export const PROTOCOL_VERSION = 1;

/** An error with a protocol error code (`unknown_session`, `not_connected`, …) sent back in a response. */
export class BridgeError extends Error {
  /** @param {object} [details] extra fields of the response's `error` (e.g. `statusCode`, `restriction`) */
  constructor(code, message, details = undefined) {
    super(message);
    this.name = 'BridgeError';
    this.code = code;
    this.details = details;
  }
}

/** Raised when the host answers an auth call with ok:false or does not answer in time. */
export class AuthCallError extends Error {
  constructor(op, code, message) {
    super(`auth ${op} failed: ${code}: ${message}`);
    this.name = 'AuthCallError';
    this.op = op;
    this.code = code;
  }
}

/**
 * Splits a byte stream into lines and hands each parsed JSON object to onMessage.
 * Partial lines are kept until their newline arrives; a line that is not a JSON object is logged and skipped
 * so one bad line from the host cannot stop the bridge.
 */
export function createLineParser(onMessage, logger) {
  const decoder = new StringDecoder('utf8');
  let pending = '';

  function handleLine(line) {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    let message;
    try {
      message = JSON.parse(text);
    } catch (error) {
      logger.warn({ line: text.slice(0, 200), error: error.message }, 'ignoring invalid JSON line on stdin');
      return;
    }
    if (!message || typeof message !== 'object' || Array.isArray(message)) {
      logger.warn({ line: text.slice(0, 200) }, 'ignoring stdin line that is not a JSON object');
      return;
    }
    onMessage(message);
  }

  return {
    push(chunk) {
      pending += typeof chunk === 'string' ? chunk : decoder.write(chunk);
      let newline;
      while ((newline = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        handleLine(line);
      }
    },
    end() {
      pending += decoder.end();
      if (pending !== '') handleLine(pending); // a last line without its newline still counts
      pending = '';
    },
  };
}

/**
 * The bridge side of the protocol: reads host messages from `input`, writes ours to `output`.
 * `onRequest(request)` returns (a promise of) the result object or throws a BridgeError.
 */
export class ProtocolChannel {
  constructor({ input, output, logger, authTimeoutMs = 30000 }) {
    this.input = input;
    this.output = output;
    this.logger = logger;
    this.authTimeoutMs = authTimeoutMs;
    this.pendingAuth = new Map();
    this.nextAuthId = 1;
    this.requestHandler = async () => {
      throw new BridgeError('internal', 'no request handler');
    };
  }

  onRequest(handler) {
    this.requestHandler = handler;
  }

  /** Starts reading; resolves once the input stream has ended (the host closed our stdin). */
  start() {
    const parser = createLineParser((message) => this.#dispatch(message), this.logger);
    return new Promise((resolve) => {
      let ended = false;
      const finish = () => {
        if (ended) return;
        ended = true;
        parser.end();
        this.#failPendingAuth('host_gone', 'stdin closed');
        resolve();
      };
      this.input.on('data', (chunk) => parser.push(chunk));
      this.input.on('end', finish);
      this.input.on('close', finish);
      this.input.on('error', (error) => {
        this.logger.error({ err: error }, 'stdin error');
        finish();
      });
      if (typeof this.input.resume === 'function') this.input.resume();
    });
  }

  send(message) {
    try {
      this.output.write(JSON.stringify(message) + '\n');
    } catch (error) {
      this.logger.error({ err: error, type: message?.type }, 'could not write protocol message');
    }
  }

  sendEvent(session, event, data) {
    this.send({ type: 'event', session, event, data });
  }

  /** Asks the host for auth state (`load_creds`, `get_keys`, …); rejects with AuthCallError on ok:false/timeout. */
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
          message: String(error?.message ?? error),
        },
      });
    }
  }

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

  #failPendingAuth(code, reason) {
    for (const [id, pending] of this.pendingAuth) {
      clearTimeout(pending.timer);
      pending.reject(new AuthCallError(pending.op, code, reason));
      this.pendingAuth.delete(id);
    }
  }
}
