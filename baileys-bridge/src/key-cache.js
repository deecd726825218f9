// @ts-check
// The in-memory cache in front of the host's key store (Baileys' CacheStore interface). We bring our own instead of
// Baileys' default NodeCache because that one starts a 10-minute interval per instance that is never stopped,
// and sessions come and go; this one expires entries lazily and is simply dropped with its session.

const DEFAULT_TTL_MS = 5 * 60 * 1000; // Baileys' DEFAULT_CACHE_TTLS.SIGNAL_STORE
const DEFAULT_MAX_ENTRIES = 10000;

/** Baileys' CacheStore: any value under a string key. */
export class KeyCache {
  /** @param {{ ttlMs?: number, maxEntries?: number, now?: () => number }} [options] */
  constructor({ ttlMs = DEFAULT_TTL_MS, maxEntries = DEFAULT_MAX_ENTRIES, now = Date.now } = {}) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.now = now;
    /** @type {Map<string, { value: unknown, expiresAt: number }>} */
    this.entries = new Map();
  }

  /**
   * @template T
   * @param {string} key
   * @returns {T | undefined}
   */
  get(key) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return /** @type {T} */ (entry.value);
  }

  /**
   * @param {string} key
   * @param {unknown} value
   */
  set(key, value) {
    this.entries.delete(key); // re-insert so Map order stays oldest-first for eviction
    if (this.entries.size >= this.maxEntries) this.entries.delete(/** @type {string} */ (this.entries.keys().next().value));
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    return true;
  }

  /** @param {string} key */
  del(key) {
    return this.entries.delete(key);
  }

  flushAll() {
    this.entries.clear();
  }
}
