// The conversation requests and events in-process with a fake Baileys socket: what Baileys is asked to do for
// `send` kinds, `read`, `delete_for_me` and `subscribe`, which arguments are refused (naming the field), and how
// Baileys' `call` and `presence.update` events are mapped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeSocketFactory } from '../test-support/fake-socket.js';
import { startBridge, tick } from '../test-support/harness.js';

const TO = '491701234567@s.whatsapp.net';
const KEY = { id: '3EB0AAAA', remoteJid: TO, fromMe: false };

async function openSession(t) {
  const factory = createFakeSocketFactory();
  const host = await startBridge({ makeSocket: factory.makeSocket });
  t.after(() => host.stop());
  assert.equal((await host.request('open', { session: 'S1' })).ok, true);
  await host.waitForEvent('S1', 'connection', (data) => data.state === 'connecting');
  const socket = factory.last();
  socket.open();
  return { host, socket };
}

test('send kinds become Baileys content: react, location, contacts, poll, edit, delete; mentions and quoted go along', async (t) => {
  const { host, socket } = await openSession(t);
  const send = async (params) => {
    const response = await host.request('send', { session: 'S1', to: TO, messageId: `M${socket.sent.length}`, ...params });
    assert.equal(response.ok, true, JSON.stringify(response));
    return socket.sent.at(-1);
  };
  assert.deepEqual((await send({ reaction: { key: KEY, emoji: '❤️' } })).content, { react: { key: KEY, text: '❤️' } });
  assert.deepEqual((await send({ location: { latitude: 52.52, longitude: 13.405 } })).content, { location: { degreesLatitude: 52.52, degreesLongitude: 13.405 } });
  const contacts = (await send({ contacts: [{ name: 'Anna', number: '491701111111' }] })).content.contacts;
  assert.equal(contacts.displayName, 'Anna');
  assert.equal(contacts.contacts[0].vcard, 'BEGIN:VCARD\nVERSION:3.0\nN:;Anna;;;\nFN:Anna\nTEL;type=CELL;type=VOICE;waid=491701111111:+491701111111\nEND:VCARD');
  assert.deepEqual((await send({ poll: { name: 'Wann?', options: ['Mo', 'Di'] } })).content, { poll: { name: 'Wann?', values: ['Mo', 'Di'], selectableCount: 0 } });
  const ownKey = { ...KEY, fromMe: true };
  assert.deepEqual((await send({ edit: { key: ownKey, text: 'neu' }, mentions: [TO] })).content, { text: 'neu', edit: ownKey, mentions: [TO] });
  assert.deepEqual((await send({ delete: { key: ownKey } })).content, { delete: ownKey });

  const reply = await send({ text: 'ja', mentions: [TO], quoted: { ...KEY, participant: 'x@lid' } });
  assert.deepEqual(reply.content, { text: 'ja', mentions: [TO] });
  assert.deepEqual(reply.options.quoted.key, { ...KEY, participant: 'x@lid' });
  assert.deepEqual(reply.options.quoted.message, { conversation: '' }, 'a contact\'s message without content is quoted by a stub');
  assert.equal(reply.options.messageId, `M${socket.sent.length - 1}`);
});

test('send refuses bad conversation arguments with invalid_params naming the field', async (t) => {
  const { host, socket } = await openSession(t);
  const refused = async (params, field) => {
    const response = await host.request('send', { session: 'S1', to: TO, ...params });
    assert.equal(response.ok, false, JSON.stringify(params));
    assert.equal(response.error.code, 'invalid_params');
    assert.ok(response.error.message.includes(field), `${response.error.message} names ${field}`);
  };
  await refused({ text: 'x', poll: { name: 'p', options: ['a', 'b'] } }, 'poll and text/media');
  await refused({ reaction: { key: KEY, emoji: '👍' }, location: { latitude: 1, longitude: 2 } }, 'reaction and location');
  await refused({ reaction: { key: KEY } }, 'reaction.emoji');
  await refused({ reaction: { key: { id: 'X', remoteJid: TO }, emoji: '👍' } }, 'reaction.key.fromMe');
  await refused({ reaction: { key: { remoteJid: TO, fromMe: false }, emoji: '👍' } }, 'reaction.key.id');
  await refused({ reaction: { key: KEY, emoji: '👍' }, quoted: KEY }, 'quoted');
  await refused({ delete: { key: KEY }, mentions: [TO] }, 'mentions');
  await refused({ location: { latitude: 91, longitude: 0 } }, 'location.latitude');
  await refused({ location: { latitude: 0, longitude: '13' } }, 'location.longitude');
  await refused({ contacts: [] }, 'contacts');
  await refused({ contacts: [{ name: 'A', number: '0170 123' }] }, 'contacts[0].number');
  await refused({ contacts: [{ number: '491701111111' }] }, 'contacts[0].name');
  await refused({ poll: { name: 'p', options: ['a'] } }, 'poll.options');
  await refused({ poll: { name: 'p', options: ['a', 'a'] } }, 'poll.options');
  await refused({ poll: { name: 'p', options: ['a', 'b'], selectableCount: 2 } }, 'poll.selectableCount');
  await refused({ poll: { options: ['a', 'b'] } }, 'poll.name');
  await refused({ edit: { key: KEY } }, 'edit.text');
  await refused({ delete: {} }, 'delete.key');
  await refused({ text: 'x', mentions: ['491701234567'] }, 'mentions[0]');
  await refused({ text: 'x', quoted: { id: 'Q', remoteJid: TO, fromMe: false, content: 42 } }, 'quoted.content');
  await refused({ text: 'x', quoted: { id: 'Q', remoteJid: TO } }, 'quoted.fromMe');
  await refused({}, 'reaction, location, contacts, poll, edit or delete');
  assert.equal(socket.sent.length, 0);
});

test('read, delete_for_me and subscribe go to the socket; bad arguments are refused', async (t) => {
  const { host, socket } = await openSession(t);
  const read = await host.request('read', { session: 'S1', keys: [{ id: 'A', remoteJid: TO }, { id: 'B', remoteJid: 'g@g.us', participant: TO }] });
  assert.deepEqual(read.result, {});
  assert.deepEqual(socket.reads, [[{ id: 'A', remoteJid: TO, fromMe: false }, { id: 'B', remoteJid: 'g@g.us', participant: TO, fromMe: false }]]);
  assert.equal((await host.request('read', { session: 'S1', keys: [] })).error.code, 'invalid_params');
  assert.match((await host.request('read', { session: 'S1', keys: [{ remoteJid: TO }] })).error.message, /keys\[0\]\.id/);

  const deleted = await host.request('delete_for_me', { session: 'S1', key: { ...KEY, fromMe: true }, timestamp: 1764288000 });
  assert.deepEqual(deleted.result, {});
  assert.deepEqual(socket.chatModifications, [
    { mod: { deleteForMe: { deleteMedia: false, key: { ...KEY, fromMe: true }, timestamp: 1764288000 } }, jid: TO },
  ]);
  assert.match((await host.request('delete_for_me', { session: 'S1', key: KEY })).error.message, /timestamp/);
  assert.match((await host.request('delete_for_me', { session: 'S1', key: KEY, timestamp: 1, deleteMedia: 'yes' })).error.message, /deleteMedia/);
  socket.sendError = Object.assign(new Error('App state key not present!'), { output: { statusCode: 400 } });
  assert.deepEqual((await host.request('delete_for_me', { session: 'S1', key: KEY, timestamp: 1 })).error, {
    code: 'send_failed',
    message: 'App state key not present!',
    statusCode: 400,
  });

  assert.deepEqual((await host.request('subscribe', { session: 'S1', to: TO })).result, {});
  assert.deepEqual(socket.subscriptions, [TO]);
  assert.equal((await host.request('subscribe', { session: 'S1', to: '491701234567' })).error.code, 'invalid_params');
});

test('call and presence.update become call and presence events; signalling-only call states are dropped', async (t) => {
  const { host, socket } = await openSession(t);
  const date = new Date(1764288000 * 1000);
  socket.ev.emit('call', [
    { chatId: '111@lid', from: '111:3@lid', callerPn: '491701234567@s.whatsapp.net', id: 'C1', date, offline: false, status: 'offer', isVideo: true, isGroup: false },
  ]);
  socket.ev.emit('call', [{ chatId: '111@lid', from: '111@lid', id: 'C1', date, offline: true, status: 'relaylatency', latencyMs: 20 }]);
  socket.ev.emit('call', [{ chatId: TO, from: TO, id: 'C2', date, offline: false, status: 'reject', isGroup: true, groupJid: 'g@g.us' }]);
  socket.ev.emit('presence.update', {
    id: 'g@g.us',
    presences: { [TO]: { lastKnownPresence: 'composing' }, '222@lid': { lastKnownPresence: 'unavailable', lastSeen: 1764280000 } },
  });
  await tick(10);
  const events = host.messages.filter((m) => m.type === 'event' && (m.event === 'call' || m.event === 'presence')).map((m) => [m.event, m.data]);
  assert.deepEqual(events, [
    ['call', { id: 'C1', from: '111@lid', fromAlt: TO, chat: '111@lid', isVideo: true, isGroup: false, status: 'offer', timestamp: 1764288000 }],
    ['call', { id: 'C2', from: TO, chat: TO, isVideo: false, isGroup: true, groupJid: 'g@g.us', status: 'reject', timestamp: 1764288000 }],
    ['presence', { chat: 'g@g.us', from: TO, state: 'composing' }],
    ['presence', { chat: 'g@g.us', from: '222@lid', state: 'unavailable', lastSeen: 1764280000 }],
  ]);
});
