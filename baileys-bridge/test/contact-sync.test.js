// Which contacts and chats Baileys reports become `contacts_synced` (contact-sync.js): people only, once each, in
// chunks; groups, broadcasts, channels, status, push names and oneself are nobody the account talks with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContactSync, describeContact } from '../src/contact-sync.js';

const ME = ['255700000001:11@s.whatsapp.net', '292870342139625:11@lid'];

function harness(options = {}) {
  const sent = [];
  const handlers = new Map();
  const sync = new ContactSync({ send: (event, data) => sent.push({ event, data }), ownJids: () => ME, ...options });
  sync.attach((event, handler) => handlers.set(event, handler));
  const emit = (event, payload) => handlers.get(event)(payload);
  const contacts = () => sent.flatMap((s) => s.data.contacts);
  return { sent, emit, contacts };
}

test('describes a person by phone and LID, device parts stripped; anything else is nobody', () => {
  assert.deepEqual(describeContact(['255755000001:3@s.whatsapp.net', '111122223333444:3@lid']), { phone: '255755000001@s.whatsapp.net', lid: '111122223333444@lid' });
  assert.deepEqual(describeContact([undefined, '111122223333444@lid', null]), { lid: '111122223333444@lid' });
  assert.deepEqual(describeContact(['255755000002@hosted']), { phone: '255755000002@s.whatsapp.net' });
  for (const jid of ['120363025246125486@g.us', 'status@broadcast', '1234567890@broadcast', '120363000000000001@newsletter', '', 42]) {
    assert.equal(describeContact([jid]), undefined, String(jid));
  }
});

test('the address book (contacts.upsert) is reported once per person; oneself and groups never', () => {
  const { sent, emit, contacts } = harness();
  emit('contacts.upsert', [
    { id: '255755000001@s.whatsapp.net', name: 'Neema', lid: '111122223333444@lid' },
    { id: '222233334444555@lid', phoneNumber: '255755000002@s.whatsapp.net' },
    { id: '333344445555666@lid' },
    { id: '255700000001@s.whatsapp.net', name: 'Me' },
    { id: '120363025246125486@g.us', name: 'Duka' },
  ]);
  emit('contacts.upsert', [{ id: '255755000001@s.whatsapp.net', name: 'Neema M.' }]);

  assert.equal(sent.length, 1);
  assert.equal(sent[0].event, 'contacts_synced');
  assert.deepEqual(contacts(), [
    { phone: '255755000001@s.whatsapp.net', lid: '111122223333444@lid' },
    { phone: '255755000002@s.whatsapp.net', lid: '222233334444555@lid' },
    { lid: '333344445555666@lid' },
  ]);
});

test('a history sync reports its direct chats and named contacts, not push names, groups, status or channels', () => {
  const { emit, contacts } = harness();
  emit('messaging-history.set', {
    chats: [
      { id: '255755000001@s.whatsapp.net' },
      { id: '111122223333444@lid', pnJid: '255755000002@s.whatsapp.net' },
      { id: '120363025246125486@g.us' },
      { id: 'status@broadcast' },
      { id: '120363000000000001@newsletter' },
    ],
    contacts: [
      { id: '255755000001@s.whatsapp.net', name: 'Neema' },
      { id: '255755000003@s.whatsapp.net', name: 'Baraka' },
      { id: '255755000004@s.whatsapp.net', notify: 'Group member' },
      { id: '120363025246125486@g.us', name: 'Duka' },
    ],
    messages: [],
    lidPnMappings: [],
  });

  assert.deepEqual(contacts(), [
    { phone: '255755000001@s.whatsapp.net' },
    { phone: '255755000002@s.whatsapp.net', lid: '111122223333444@lid' },
    { phone: '255755000003@s.whatsapp.net' },
  ]);
});

test('a contact update adds an address to a person reported before, and never reports a new person', () => {
  const { sent, emit, contacts } = harness();
  emit('chats.upsert', [{ id: '255755000001@s.whatsapp.net' }, { id: '120363025246125486@g.us' }]);
  // Every message's push name comes as an update, group members' too.
  emit('contacts.update', [{ id: '255755000009@s.whatsapp.net', notify: 'Stranger in a group' }]);
  emit('contacts.update', [{ id: '255755000001@s.whatsapp.net', notify: 'Neema' }]);
  assert.equal(sent.length, 1);

  emit('contacts.update', [{ id: '255755000001@s.whatsapp.net', lid: '111122223333444@lid' }]);
  assert.deepEqual(contacts(), [{ phone: '255755000001@s.whatsapp.net' }, { phone: '255755000001@s.whatsapp.net', lid: '111122223333444@lid' }]);
});

test('thousands of chats go in chunks of at most 500 contacts', () => {
  const { sent, emit, contacts } = harness();
  const chats = Array.from({ length: 1203 }, (_, i) => ({ id: `2557550${String(i).padStart(5, '0')}@s.whatsapp.net` }));
  emit('messaging-history.set', { chats, contacts: [], messages: [] });

  assert.deepEqual(sent.map((s) => s.data.contacts.length), [500, 500, 203]);
  assert.equal(new Set(contacts().map((c) => c.phone)).size, 1203);
});
