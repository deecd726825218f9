// @ts-check
// Wires the protocol channel, the session registry and the logger together. Everything the outside world
// provides (streams, socket factory, media downloader, environment) is injectable so tests can run the bridge
// in-process against fakes.

import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { createLogger } from './logger.js';
import { DEFAULT_MAX_LINE_BYTES, PROTOCOL_VERSION, ProtocolChannel } from './protocol.js';
import { MediaFolder } from './media.js';
import { findFfmpeg, GifConverter } from './gif.js';
import { SessionRegistry } from './sessions.js';
import { sessionContext } from './context.js';
import { DEFAULT_STATS_INTERVAL_MS, startStats } from './stats.js';

const DEFAULT_MAX_SESSIONS = 50;
const DEFAULT_MAX_MEDIA_BYTES = 100 * 1024 * 1024;
const DEFAULT_AUTH_TIMEOUT_MS = 30000;

/** @param {Record<string, string | undefined>} [env] */
export function readConfig(env = process.env) {
  return {
    maxSessions: positiveInt(env.WAPBRIDGE_BRIDGE_MAX_SESSIONS, DEFAULT_MAX_SESSIONS),
    logLevel: env.WAPBRIDGE_BRIDGE_LOG_LEVEL || 'info',
    maxMediaBytes: positiveInt(env.WAPBRIDGE_BRIDGE_MAX_MEDIA_BYTES, DEFAULT_MAX_MEDIA_BYTES),
    authTimeoutMs: positiveInt(env.WAPBRIDGE_BRIDGE_AUTH_TIMEOUT_MS, DEFAULT_AUTH_TIMEOUT_MS),
    maxLineBytes: positiveInt(env.WAPBRIDGE_BRIDGE_MAX_LINE_BYTES, DEFAULT_MAX_LINE_BYTES),
    dataDir: env.WAPBRIDGE_BRIDGE_DATA_DIR || undefined,
    statsIntervalMs: positiveInt(env.WAPBRIDGE_BRIDGE_STATS_INTERVAL_MS, DEFAULT_STATS_INTERVAL_MS),
  };
}

/**
 * Creates a bridge. `makeSocket` defaults to Baileys' makeWASocket; pass a fake in tests.
 * Returns { run, handleUncaught, registry, channel, logger }; `run()` prints `ready`, serves requests and
 * resolves after stdin ended and all sockets were ended.
 * @param {object} [options]
 * @param {import('./protocol.js').InputStream} [options.stdin]
 * @param {import('./protocol.js').OutputStream} [options.stdout]
 * @param {{ write(text: string): unknown }} [options.stderr]
 * @param {Record<string, string | undefined>} [options.env]
 * @param {import('./session.js').MakeSocket} [options.makeSocket]
 * @param {import('./event-translator.js').DownloadMedia} [options.downloadMedia]
 * @param {import('./logger.js').Logger} [options.logger]
 */
export async function createBridge({
  stdin = process.stdin,
  stdout = process.stdout,
  stderr = process.stderr,
  env = process.env,
  makeSocket,
  downloadMedia,
  logger,
} = {}) {
  const config = readConfig(env);
  const log = logger ?? createLogger({ level: config.logLevel, stream: stderr, bindings: { component: 'bridge' } });
  const socketFactory = makeSocket ?? (await import('baileys')).makeWASocket;
  const channel = new ProtocolChannel({
    input: stdin,
    output: stdout,
    logger: log,
    authTimeoutMs: config.authTimeoutMs,
    maxLineBytes: config.maxLineBytes,
  });
  const mediaFolder = config.dataDir ? new MediaFolder(config.dataDir) : null;
  await mediaFolder?.cleanLeftovers(log);
  const ffmpegPath = await findFfmpeg(env);
  if (ffmpegPath) log.info({ ffmpeg: ffmpegPath }, 'GIFs are sent as looping videos');
  else log.warn({ ffmpeg: env.WAPBRIDGE_BRIDGE_FFMPEG || null }, 'no ffmpeg to transcode with: GIFs are sent as documents');
  const registry = new SessionRegistry({
    channel,
    makeSocket: socketFactory,
    downloadMedia,
    logger: log,
    maxSessions: config.maxSessions,
    maxMediaBytes: config.maxMediaBytes,
    mediaFolder,
    gifConverter: new GifConverter({ ffmpegPath, maxBytes: config.maxMediaBytes }),
  });
  channel.onRequest((request) => registry.handle(request));

  async function run() {
    channel.send({
      type: 'ready',
      protocol: PROTOCOL_VERSION,
      bridgeVersion: packageVersion(new URL('../package.json', import.meta.url)),
      baileysVersion: baileysVersion(),
      maxSessions: config.maxSessions,
      // The V8 heap limit the host started us with (--max-old-space-size), so it can check that it took effect.
      heapSizeLimit: v8.getHeapStatistics().heap_size_limit,
    });
    // A process-level event: no `session`, which hosts older than the stats event skip as an event of no session.
    const stats = startStats({
      intervalMs: config.statsIntervalMs,
      sessions: () => registry.activeCount(),
      send: (data) => channel.send({ type: 'event', event: 'stats', data }),
    });
    await channel.start();
    stats.stop();
    log.info('stdin closed; ending all sockets');
    await registry.stopAll();
  }

  /**
   * For process-level uncaughtException/unhandledRejection: an error raised by code running for a session
   * closes that session only; anything else is logged and the bridge keeps serving.
   */
  /**
   * @param {unknown} error
   * @param {string} origin
   */
  function handleUncaught(error, origin) {
    const { session, generation } = sessionContext.getStore() ?? {};
    if (session && registry.sessions.get(session.id) === session && session.isCurrent(generation)) {
      log.error({ err: error, origin, session: session.id }, 'uncaught error in session');
      session.fail(error);
    } else if (session) {
      log.warn({ err: error, origin, session: session.id }, 'uncaught error from a closed or replaced socket; ignoring');
    } else {
      log.error({ err: error, origin }, 'uncaught error outside any session; continuing');
    }
  }

  return { run, handleUncaught, registry, channel, logger: log, config };
}

/**
 * @param {string | undefined} text
 * @param {number} fallback
 */
function positiveInt(text, fallback) {
  const value = Number.parseInt(text ?? '', 10);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/**
 * @param {URL} url
 * @returns {string}
 */
function packageVersion(url) {
  try {
    return JSON.parse(readFileSync(url, 'utf8')).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function baileysVersion() {
  try {
    // baileys/lib/index.js → baileys/package.json
    return packageVersion(new URL('../package.json', import.meta.resolve('baileys')));
  } catch {
    return 'unknown';
  }
}
