import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyCache } from '../src/key-cache.js';

test('entries expire after the ttl and the oldest is evicted at the size limit', () => {
  let now = 0;
  const cache = new KeyCache({ ttlMs: 100, maxEntries: 2, now: () => now });
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1);
  cache.set('c', 3);
  assert.equal(cache.get('a'), undefined, 'oldest evicted');
  assert.equal(cache.get('c'), 3);
  now = 100;
  assert.equal(cache.get('b'), undefined, 'expired');
  cache.set('d', 4);
  cache.del('d');
  assert.equal(cache.get('d'), undefined);
  cache.set('e', 5);
  cache.flushAll();
  assert.equal(cache.get('e'), undefined);
});
