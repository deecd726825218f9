// @ts-check
// Sets and maps keyed by message ids or jids grow with every message a session sees; a gateway runs for months,
// so each one keeps only its most recent entries (insertion order: the oldest goes first).

export class BoundedSet {
  constructor(maxEntries) {
    this.maxEntries = maxEntries;
    this.entries = new Set();
  }

  has(value) {
    return this.entries.has(value);
  }

  add(value) {
    this.entries.delete(value);
    this.entries.add(value);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.values().next().value);
    return this;
  }

  get size() {
    return this.entries.size;
  }
}
