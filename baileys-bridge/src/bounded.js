// @ts-check
// Sets and maps keyed by message ids or jids grow with every message a session sees; a gateway runs for months,
// so each one keeps only its most recent entries (insertion order: the oldest goes first).

/** @template T */
export class BoundedSet {
  /** @param {number} maxEntries */
  constructor(maxEntries) {
    this.maxEntries = maxEntries;
    /** @type {Set<T>} */
    this.entries = new Set();
  }

  /** @param {T} value */
  has(value) {
    return this.entries.has(value);
  }

  /** @param {T} value */
  add(value) {
    this.entries.delete(value);
    this.entries.add(value);
    while (this.entries.size > this.maxEntries) this.entries.delete(/** @type {T} */ (this.entries.values().next().value));
    return this;
  }

  get size() {
    return this.entries.size;
  }
}
