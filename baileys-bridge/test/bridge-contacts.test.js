// Known contacts (issue 20) through the real bridge process (src/main.js, real Baileys) against the fake WhatsApp
// server: the phone's history syncs (the initial one after linking, later RECENT and PUSH_NAME ones), as Baileys
// decodes them from the phone's HISTORY_SYNC_NOTIFICATION, become `contacts_synced` events of the people in them.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkedBridge } from '../test-support/linked-bridge.js';

const SESSION = 'INST-01-0000020';
const WRITER = '255755000001'; // not in any sync: writes on their own
const pn = (phone) => `${phone}@s.whatsapp.net`;
const TEST_TIMEOUT = { timeout: 120000 };
const EVENT_WAIT = { timeoutMs: 20000 };

const INITIAL_CHATS = [
  { id: pn('255755100001'), displayName: 'Neema' },
  { id: '190000000100002@lid', pnJid: pn('255755100002') },
  { id: '190000000100003@lid' },
  { id: '120363025246100004@g.us', name: 'Duka group' },
  { id: 'status@broadcast' },
  { id: '120363000000100005@newsletter' },
];

const linkedChatsBridge = (t) =>
  linkedBridge(t, { session: SESSION, waOptions: { registered: [{ phone: WRITER, name: 'Baraka' }], historySync: { conversations: INITIAL_CHATS } } });

const synced = (bridge) => bridge.messages.filter((m) => m.type === 'event' && m.session === SESSION && m.event === 'contacts_synced');
const syncedContacts = (bridge) => synced(bridge).flatMap((m) => m.data.contacts);

test('the initial history sync reports its direct chats by phone and LID; groups, status and channels are nobody', TEST_TIMEOUT, async (t) => {
  const { bridge } = await linkedChatsBridge(t);

  await bridge.waitForEvent(SESSION, 'contacts_synced', () => true, EVENT_WAIT);
  assert.deepEqual(syncedContacts(bridge), [
    { phone: pn('255755100001') },
    { phone: pn('255755100002'), lid: '190000000100002@lid' },
    { lid: '190000000100003@lid' },
  ]);
});

test('later syncs report only new people, in chunks of at most 500; push names and a stranger writing report nobody', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedChatsBridge(t);
  await bridge.waitForEvent(SESSION, 'contacts_synced', () => true, EVENT_WAIT);
  const before = synced(bridge).length;

  // Push names are whoever the phone has seen, group members included: not people the account talks with.
  await wa.sendHistorySync({ syncType: 'PUSH_NAME', pushnames: [{ id: pn('255755100009'), pushname: 'Seen in a group' }] });
  // A stranger's first message updates their push name (contacts.update): the host learns of them from the message.
  const sent = await wa.sendText(WRITER, 'Habari, bei gani?');
  await bridge.waitForEvent(SESSION, 'message', (d) => d.raw.key.id === sent.id, EVENT_WAIT);
  const recent = Array.from({ length: 1100 }, (_, i) => ({ id: pn(`2557552${String(i).padStart(5, '0')}`) }));
  await wa.sendHistorySync({ syncType: 'RECENT', conversations: [{ id: pn('255755100001') }, ...recent] });
  await bridge.waitFor(() => syncedContacts(bridge).length >= 3 + recent.length, { timeoutMs: 20000, description: 'the RECENT sync reported' });

  const later = synced(bridge).slice(before);
  assert.deepEqual(later.map((m) => m.data.contacts.length), [500, 500, 100]);
  const phones = later.flatMap((m) => m.data.contacts.map((c) => c.phone));
  assert.deepEqual(phones, recent.map((chat) => chat.id), 'the chat reported before is not reported again');
  assert.ok(!syncedContacts(bridge).some((c) => c.phone === pn('255755100009') || c.phone === pn(WRITER)));
});
