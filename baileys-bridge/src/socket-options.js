// @ts-check
// How a session's options become Baileys' socket config, and how Baileys describes the connection back.

import { DisconnectReason } from 'baileys';
import { BridgeError } from './protocol.js';
import { withoutUndefined } from './util.js';

/**
 * Turns Baileys' lastDisconnect.error into the protocol's close reason.
 * @param {any} error
 */
export function describeDisconnect(error) {
  const statusCode = error?.output?.statusCode ?? (error ? 500 : DisconnectReason.connectionClosed);
  /** @type {{ statusCode: number, error: string, name: string, data?: object }} */
  const reason = {
    statusCode,
    error: error?.message || error?.output?.payload?.error || 'connection closed',
    name: /** @type {Record<number, string>} */ (/** @type {unknown} */ (DisconnectReason))[statusCode] ?? 'unknown',
  };
  // A login `failure` keeps its attributes there (a 402 temporary ban says how long in `expire`).
  if (error?.data && typeof error.data === 'object' && !Array.isArray(error.data)) reason.data = { ...error.data };
  return reason;
}

/**
 * The config of a new Baileys socket: the session's own parts (auth, logger, getMessage) and the host's options.
 * @param {{ webSocketUrl?: string, waVersion?: unknown, browser?: unknown }} options
 * @param {Pick<import('baileys').UserFacingSocketConfig, 'auth' | 'logger' | 'getMessage' | 'cachedGroupMetadata'>} own
 * @returns {import('baileys').UserFacingSocketConfig}
 */
export function socketConfig(options, own) {
  /** @type {import('baileys').UserFacingSocketConfig} */
  const config = {
    ...own,
    // A gateway should not keep the phone from getting notifications, nor pull the whole chat history.
    markOnlineOnConnect: false,
    syncFullHistory: false,
  };
  // A string, so Baileys makes a fresh URL per socket (it appends routing info to the one it gets).
  if (options.webSocketUrl) config.waWebSocketUrl = options.webSocketUrl;
  if (isWaVersion(options.waVersion)) config.version = options.waVersion;
  if (isBrowser(options.browser)) config.browser = options.browser;
  return config;
}

/** @param {import('baileys').Contact | undefined} me */
export function describeMe(me) {
  if (!me?.id) return undefined;
  return withoutUndefined({ id: me.id, lid: me.lid || undefined, name: me.name || undefined });
}

/**
 * Where Baileys connects instead of WhatsApp's own address (tests, a proxy); absent means Baileys' default.
 * @param {unknown} value
 */
export function parseWebSocketUrl(value) {
  if (value === undefined || value === null || value === '') return undefined;
  let url;
  try {
    url = typeof value === 'string' ? new URL(value) : null;
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== 'ws:' && url.protocol !== 'wss:')) {
    throw new BridgeError('invalid_params', 'webSocketUrl must be an absolute ws:// or wss:// URL');
  }
  return url.href;
}

/**
 * @param {unknown} value
 * @returns {value is import('baileys').WAVersion}
 */
function isWaVersion(value) {
  return Array.isArray(value) && value.length === 3 && value.every((part) => Number.isInteger(part) && part >= 0);
}

/**
 * @param {unknown} value
 * @returns {value is import('baileys').WABrowserDescription}
 */
function isBrowser(value) {
  return Array.isArray(value) && value.length === 3 && value.every((part) => typeof part === 'string');
}
