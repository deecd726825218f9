// @ts-check
// A minimal pino-compatible logger that writes one JSON object per line to a stream (stderr by default).
// Baileys only needs `level`, `child()` and the level methods; it calls them pino-style:
// `logger.info({ obj }, 'msg')`, `logger.warn('msg')` or `logger.info('msg', extra)`.
// We avoid depending on pino directly so stdout stays reserved for the protocol and no worker threads are spawned.

/** @type {Record<string, number>} */
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

/** @typedef {(...args: unknown[]) => void} LogMethod */
/**
 * What Baileys (ILogger) and our code call on a logger.
 * @typedef {{ level: string, child(bindings?: Record<string, unknown>): Logger,
 *   trace: LogMethod, debug: LogMethod, info: LogMethod, warn: LogMethod, error: LogMethod, fatal: LogMethod }} Logger
 */

/** An Error as thrown by Baileys (a Boom carries `output.statusCode`) or Node (`code`). */
/** @typedef {Error & { output?: { statusCode?: number }, statusCode?: number, code?: unknown }} DetailedError */

/**
 * @param {{ level?: string, stream?: { write(text: string): unknown }, bindings?: Record<string, unknown> }} [options]
 * @returns {Logger}
 */
export function createLogger({ level = 'info', stream = process.stderr, bindings = {} } = {}) {
  const threshold = LEVELS[level] ?? LEVELS.info;

  /**
   * @param {string} levelName
   * @param {unknown[]} args
   */
  function write(levelName, args) {
    if (LEVELS[levelName] < threshold) return;
    /** @type {Record<string, unknown>} */
    const entry = { level: levelName, time: new Date().toISOString(), ...bindings };
    let [first, ...rest] = args;
    if (first instanceof Error) {
      entry.err = describeError(first);
    } else if (first && typeof first === 'object') {
      for (const [key, value] of Object.entries(first)) {
        entry[key] = value instanceof Error ? describeError(value) : value;
      }
    } else if (first !== undefined) {
      rest = [first, ...rest];
    }
    const message = rest.filter((part) => part !== undefined).map(String).join(' ');
    if (message) entry.msg = message;
    try {
      stream.write(safeStringify(entry) + '\n');
    } catch {
      // A logger must never throw into Baileys or our handlers.
    }
  }

  /** @param {string} name @returns {LogMethod} */
  const method = (name) => (...args) => write(name, args);
  /** @type {Logger} */
  const logger = {
    level: level in LEVELS ? level : 'info',
    child(childBindings = {}) {
      return createLogger({ level: logger.level, stream, bindings: { ...bindings, ...childBindings } });
    },
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
  };
  return logger;
}

/** @param {unknown} error */
export function describeError(error) {
  if (!(error instanceof Error)) return error;
  const detailed = /** @type {DetailedError} */ (error);
  /** @type {{ type: string, message: string, stack?: string, statusCode?: number, code?: unknown }} */
  const described = { type: error.name, message: error.message, stack: error.stack };
  const statusCode = detailed.output?.statusCode ?? detailed.statusCode;
  if (statusCode !== undefined) described.statusCode = statusCode;
  if (detailed.code !== undefined) described.code = detailed.code;
  return described;
}

// Log payloads from Baileys can hold cycles, BigInts and large buffers; none of that may break a log line.
/** @param {unknown} value */
function safeStringify(value) {
  const seen = new WeakSet();
  return JSON.stringify(value, (key, item) => {
    if (typeof item === 'bigint') return item.toString();
    if (item instanceof Uint8Array) return `<${item.length} bytes>`;
    if (item && typeof item === 'object') {
      if (item.type === 'Buffer' && Array.isArray(item.data)) return `<${item.data.length} bytes>`;
      if (seen.has(item)) return '[Circular]';
      seen.add(item);
    }
    return item;
  });
}
