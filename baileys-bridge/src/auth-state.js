// @ts-check
// Baileys' AuthenticationState backed by the host: creds come from `load_creds`, keys are read and written with
// `get_keys`/`set_keys`. Values travel as opaque strings made with BufferJSON.replacer, the same encoding
// Baileys' own useMultiFileAuthState writes, so the host can store them as they are.

import { BufferJSON, initAuthCreds, proto } from 'baileys';

/** @param {unknown} value */
export function serializeAuthValue(value) {
  return JSON.stringify(value, BufferJSON.replacer);
}

/**
 * @param {string} category `creds` or a SignalDataTypeMap key
 * @param {string} text
 * @returns {any} whatever was stored under that category (JSON.parse's own type)
 */
export function deserializeAuthValue(category, text) {
  const value = JSON.parse(text, BufferJSON.reviver);
  // Baileys expects a protobuf instance here (it calls methods on it); JSON only keeps the fields.
  if (category === 'app-state-sync-key' && value) return proto.Message.AppStateSyncKeyData.fromObject(value);
  return value;
}

/**
 * Loads the creds of one session from the host and returns { state: { creds, keys }, saveCreds, clear }.
 * `callAuth(op, params)` sends one auth call to the host and resolves with its result.
 * When the host has no creds yet, fresh ones are created with initAuthCreds() and saved right away.
 * @param {(op: string, params: object) => Promise<any>} callAuth resolves with the host's `result` object
 */
export async function loadHostAuthState(callAuth) {
  const { creds: storedCreds } = await callAuth('load_creds', {});
  const isNew = storedCreds === null || storedCreds === undefined;
  /** @type {import('baileys').AuthenticationCreds} */
  const creds = isNew ? initAuthCreds() : deserializeAuthValue('creds', storedCreds);

  /** @type {import('baileys').SignalKeyStore} */
  const keys = {
    async get(category, ids) {
      /** @type {{ values?: Record<string, unknown> }} */
      const { values = {} } = await callAuth('get_keys', { category, ids });
      /** @type {Record<string, any>} */
      const found = {};
      for (const id of ids) {
        const text = values[id];
        // Missing keys are left out rather than set to null: Baileys tests presence with `if (item)`.
        if (typeof text === 'string') found[id] = deserializeAuthValue(category, text);
      }
      return found;
    },
    async set(data) {
      /** @type {Record<string, Record<string, string | null>>} */
      const serialized = {};
      for (const [category, entries] of Object.entries(data)) {
        serialized[category] = {};
        for (const [id, value] of Object.entries(entries ?? {})) {
          serialized[category][id] = value === null || value === undefined ? null : serializeAuthValue(value);
        }
      }
      await callAuth('set_keys', { data: serialized });
    },
  };

  // Baileys mutates `creds` in place on every creds.update, so saving means saving the whole object.
  const saveCreds = () => callAuth('save_creds', { creds: serializeAuthValue(creds) });
  const clear = () => callAuth('clear', {});

  if (isNew) await saveCreds();
  return { state: { creds, keys }, saveCreds, clear, isNew };
}
