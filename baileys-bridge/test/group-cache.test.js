// The session's group metadata cache (Baileys' cachedGroupMetadata): bounded, least recently used dropped first, and
// kept current by the group events Baileys raises.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCache } from '../src/group-cache.js';

const ME = ['255700000001:11@s.whatsapp.net', '292870342139625:11@lid'];
const group = (id, participants) => ({ id, subject: `Group ${id}`, participants: participants.map((p) => ({ ...p })) });
const members = (cache, id) => cache.get(id).participants.map((p) => [p.id, p.admin ?? null]);

test('keeps the most recently used groups up to its bound', () => {
  const cache = new GroupCache(2);
  cache.set(group('1@g.us', []));
  cache.set(group('2@g.us', []));
  assert.ok(cache.get('1@g.us')); // 1 is now the most recently used
  cache.set(group('3@g.us', []));
  assert.equal(cache.get('2@g.us'), undefined);
  assert.ok(cache.get('1@g.us'));
  assert.ok(cache.get('3@g.us'));
  assert.equal(cache.size, 2);
});

test('member events change the cached members in place, by LID or by phone', () => {
  const cache = new GroupCache();
  cache.set(group('1@g.us', [
    { id: '292870342139625@lid', phoneNumber: '255700000001@s.whatsapp.net', admin: 'superadmin' },
    { id: '98765432109876@lid', phoneNumber: '255713000111@s.whatsapp.net', admin: null },
  ]));
  cache.applyParticipants({ id: '1@g.us', action: 'add', participants: [{ id: '11112222333344@lid', phoneNumber: '255755000004@s.whatsapp.net' }] }, ME);
  cache.applyParticipants({ id: '1@g.us', action: 'promote', participants: ['255713000111@s.whatsapp.net'] }, ME);
  assert.deepEqual(members(cache, '1@g.us'), [['292870342139625@lid', 'superadmin'], ['98765432109876@lid', 'admin'], ['11112222333344@lid', null]]);
  cache.applyParticipants({ id: '1@g.us', action: 'remove', participants: [{ id: '98765432109876@lid' }] }, ME);
  assert.deepEqual(members(cache, '1@g.us'), [['292870342139625@lid', 'superadmin'], ['11112222333344@lid', null]]);
  assert.equal(cache.get('1@g.us').size, 2);
});

test('our own removal, a number change or full metadata replace or drop the group', () => {
  const cache = new GroupCache();
  cache.set(group('1@g.us', [{ id: '292870342139625@lid', phoneNumber: '255700000001@s.whatsapp.net' }]));
  cache.applyParticipants({ id: '1@g.us', action: 'remove', participants: [{ id: '292870342139625@lid' }] }, ME);
  assert.equal(cache.get('1@g.us'), undefined, 'we left: nothing more is known');

  cache.set(group('2@g.us', []));
  cache.applyParticipants({ id: '2@g.us', action: 'modify', participants: ['1@lid'] }, ME);
  assert.equal(cache.get('2@g.us'), undefined);

  cache.set(group('3@g.us', []));
  cache.applyUpdate({ id: '3@g.us', subject: 'Renamed', announce: true });
  assert.deepEqual([cache.get('3@g.us').subject, cache.get('3@g.us').announce], ['Renamed', true]);
  cache.applyUpdate({ ...group('3@g.us', [{ id: '1@lid' }]), subject: 'Fetched' });
  assert.deepEqual([cache.get('3@g.us').subject, cache.get('3@g.us').participants.length], ['Fetched', 1]);
  cache.applyUpdate({ id: '4@g.us', subject: 'Unknown' });
  assert.equal(cache.get('4@g.us'), undefined, 'a change of a group we never read is not a group');
});
