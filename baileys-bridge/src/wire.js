// @ts-check
// Conversion of Baileys objects (protobuf instances, Buffers, Longs) into the plain JSON the host reads.

import { Buffer } from 'node:buffer';

/**
 * Turns a WAMessage (or any Baileys structure) into plain JSON-safe data:
 * Buffers/Uint8Arrays → {"type":"Buffer","data":"<base64>"} (the BufferJSON.replacer shape),
 * protobuf Longs and BigInts → numbers, enums stay numbers.
 * We walk the tree ourselves instead of JSON.stringify because protobufjs instances carry a toJSON()
 * that would turn bytes into bare base64 strings, enums into names and Longs into strings.
 * @param {any} value a Baileys structure: its fields are read whatever they are
 * @param {Set<object>} [ancestors]
 * @returns {unknown}
 */
export function toWire(value, ancestors = new Set()) {
  if (value === null || value === undefined) return value;
  const type = typeof value;
  if (type === 'number') return Number.isFinite(value) ? value : null;
  if (type === 'string' || type === 'boolean') return value;
  if (type === 'bigint') return Number(value);
  if (type !== 'object') return undefined; // functions, symbols
  if (value instanceof Uint8Array) return bufferToWire(value);
  if (value.type === 'Buffer' && Array.isArray(value.data)) return bufferToWire(Buffer.from(value.data));
  if (isLong(value)) return longToNumber(value);
  if (value instanceof Date) return value.toISOString();
  if (ancestors.has(value)) return undefined; // cycles never occur in messages, but must not hang us
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => toWire(item, ancestors) ?? null);
    /** @type {Record<string, unknown>} */
    const plain = {};
    // Own enumerable keys only: protobufjs keeps field defaults on the prototype, so unset fields stay absent.
    for (const key of Object.keys(value)) {
      const converted = toWire(value[key], ancestors);
      if (converted !== undefined) plain[key] = converted;
    }
    return plain;
  } finally {
    ancestors.delete(value);
  }
}

/** @param {Uint8Array} bytes */
function bufferToWire(bytes) {
  return { type: 'Buffer', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** @typedef {{ low: number, high: number, unsigned: boolean, toNumber?: () => number }} LongLike */

/**
 * @param {any} value
 * @returns {value is LongLike}
 */
export function isLong(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.low === 'number' &&
    typeof value.high === 'number' &&
    typeof value.unsigned === 'boolean'
  );
}

/** @param {LongLike} long */
function longToNumber(long) {
  if (typeof long.toNumber === 'function') return long.toNumber();
  // A plain {low, high, unsigned} object (e.g. a Long that went through JSON once).
  const high = long.unsigned ? long.high >>> 0 : long.high;
  return high * 4294967296 + (long.low >>> 0);
}

/** A number for a value that may be a number, Long, BigInt or numeric string (timestamps, file lengths). */
/**
 * @param {unknown} value
 * @returns {number | undefined}
 */
export function toNumber(value) {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') return Number(value);
  if (isLong(value)) return longToNumber(value);
  return undefined;
}
