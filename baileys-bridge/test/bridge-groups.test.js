// Contacts and groups (issue 19) through the real bridge process (src/main.js, real Baileys) against the fake
// WhatsApp server: batch number checks, profiles, every group request as WhatsApp answers it, the group events
// Baileys raises from WhatsApp's `w:gp2` notifications, and group sends served from the session's metadata cache.

import '../test-support/fake-wa/loopback-guard.js';
import '../test-support/fake-wa/quiet-libsignal.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkedBridge } from '../test-support/linked-bridge.js';

const SESSION = 'INST-01-0000001';
const CONTACT = '255755000001'; // may be added to groups
const PRIVATE = '255755000002'; // only by invite
const SHOWN = '255755000003'; // has an about text and a picture
const NOBODY = '255799999999'; // not on WhatsApp
const pn = (phone) => `${phone}@s.whatsapp.net`;
const TEST_TIMEOUT = { timeout: 120000 };
const EVENT_WAIT = { timeoutMs: 15000 };

async function linkedGroupsBridge(t) {
  const { wa, bridge } = await linkedBridge(t, {
    session: SESSION,
    waOptions: {
      registered: [
        { phone: CONTACT, name: 'Neema' },
        { phone: PRIVATE, groupAdd: 'invite' },
        { phone: SHOWN, name: 'Baraka', about: 'Karibu dukani', picture: true },
      ],
    },
  });
  const call = async (method, params = {}) => bridge.request(method, { session: SESSION, ...params }, { timeoutMs: 20000 });
  const ok = async (method, params) => {
    const answer = await call(method, params);
    assert.equal(answer.ok, true, `${method}: ${JSON.stringify(answer)}`);
    return answer.result;
  };
  return { wa, bridge, call, ok };
}

const contact = (wa, phone) => wa.directory.contact(phone);
const groupIqs = (wa, tag) => wa.received.filter(({ node }) => node.tag === 'iq' && node.attrs.xmlns === 'w:g2' && node.content?.[0]?.tag === tag);

test('check_numbers asks WhatsApp once for a batch and answers each number in order with its JID and LID; profile tells about, picture and push name', TEST_TIMEOUT, async (t) => {
  const { wa, bridge, call, ok } = await linkedGroupsBridge(t);
  const usyncsBefore = wa.received.filter(({ node }) => node.attrs.xmlns === 'usync').length;

  const checked = await ok('check_numbers', { phones: [SHOWN, NOBODY, CONTACT, SHOWN] });
  assert.deepEqual(checked.results, [
    { phone: SHOWN, exists: true, jid: pn(SHOWN), lid: contact(wa, SHOWN).lidJid },
    { phone: NOBODY, exists: false },
    { phone: CONTACT, exists: true, jid: pn(CONTACT), lid: contact(wa, CONTACT).lidJid },
    { phone: SHOWN, exists: true, jid: pn(SHOWN), lid: contact(wa, SHOWN).lidJid },
  ]);
  const contactQueries = wa.received.slice(0).filter(({ node }) => node.attrs.xmlns === 'usync'
    && node.content?.[0]?.content?.some((part) => part.tag === 'query' && part.content?.some((protocol) => protocol.tag === 'contact')));
  assert.equal(contactQueries.length, 1, 'one contact query for the whole batch');
  assert.ok(wa.received.filter(({ node }) => node.attrs.xmlns === 'usync').length - usyncsBefore <= 2, 'the batch and at most one LID lookup');

  const bad = await call('check_numbers', { phones: ['12ab'] });
  assert.equal(bad.error.code, 'invalid_params');
  assert.match(bad.error.message, /phones\[0\]/);

  // A message from the contact teaches the session its push name; WhatsApp has no call for it.
  const sent = await wa.sendText(SHOWN, 'Habari');
  await bridge.waitForEvent(SESSION, 'message', (d) => d.raw.key.id === sent.id, EVENT_WAIT);
  const shown = await ok('profile', { jid: pn(SHOWN) });
  assert.equal(shown.about, 'Karibu dukani');
  assert.equal(typeof shown.aboutSetAt, 'number');
  assert.match(shown.pictureUrl, /^https:\/\/pps\.fake-wa\.invalid\//);
  assert.equal(shown.pushName, 'Baraka');
  assert.equal(shown.phone, pn(SHOWN));
  assert.equal(shown.lid, contact(wa, SHOWN).lidJid);

  const hidden = await ok('profile', { jid: contact(wa, CONTACT).lidJid });
  assert.equal(hidden.about, undefined);
  assert.equal(hidden.pictureUrl, undefined, 'a picture WhatsApp does not show is no error');
  assert.equal(hidden.lid, contact(wa, CONTACT).lidJid);

  const missing = await call('profile', { jid: pn(NOBODY) });
  assert.equal(missing.ok, false);
  assert.equal(missing.error.code, 'not_found');
});

test('group requests: create, participants with WhatsApp\'s per-person answers, settings, invites, leave and join', TEST_TIMEOUT, async (t) => {
  const { wa, bridge, call, ok } = await linkedGroupsBridge(t);

  const { group } = await ok('group_create', { subject: 'Wauzaji', participants: [pn(CONTACT), pn(PRIVATE)] });
  assert.match(group.id, /@g\.us$/);
  assert.equal(group.subject, 'Wauzaji');
  assert.equal(group.owner, wa.account.jid);
  assert.equal(group.ownerLid, wa.account.lidJid);
  assert.equal(group.addressingMode, 'lid');
  assert.deepEqual(group.participants.map((p) => [p.phone, p.lid, p.admin]).sort(), [
    [wa.account.jid, wa.account.lidJid, 'superadmin'],
    [pn(CONTACT), contact(wa, CONTACT).lidJid, undefined],
  ].sort(), 'WhatsApp leaves out whom it may not add');
  // Members listed by LID with their phone number teach the host the mapping.
  await bridge.waitForEvent(SESSION, 'lid_mapping', (d) => d.pn === pn(CONTACT) && d.lid === contact(wa, CONTACT).lidJid, EVENT_WAIT);

  wa.group(group.id).recentlyLeft.add(SHOWN);
  const added = await ok('group_participants', { id: group.id, action: 'add', participants: [pn(PRIVATE), pn(NOBODY), pn(CONTACT), pn(SHOWN)] });
  assert.deepEqual(added.results.map((r) => [r.participant, r.status, r.code]), [
    [pn(PRIVATE), 'invite_sent', 403],
    [pn(NOBODY), 'not_on_whatsapp', 404],
    [pn(CONTACT), 'already_member', 409],
    [pn(SHOWN), 'recently_left', 408],
  ]);
  assert.match(added.results[0].inviteCode, /^[A-Za-z0-9]+$/);
  assert.match(added.results[0].detail, /privacy/);

  const promoted = await ok('group_participants', { id: group.id, action: 'promote', participants: [contact(wa, CONTACT).lidJid] });
  assert.deepEqual(promoted.results, [{ participant: contact(wa, CONTACT).lidJid, status: 'promoted' }]);
  // WhatsApp notifies every member's devices, ours included: Baileys raises group-participants.update.
  const promotion = await bridge.waitForEvent(SESSION, 'group_participants', (d) => d.action === 'promote', EVENT_WAIT);
  assert.deepEqual(promotion.data, {
    id: group.id,
    action: 'promote',
    participants: [{ id: contact(wa, CONTACT).lidJid, phone: pn(CONTACT), lid: contact(wa, CONTACT).lidJid }],
    author: wa.account.jid,
    authorLid: wa.account.lidJid,
  });

  const removed = await ok('group_participants', { id: group.id, action: 'remove', participants: [pn(CONTACT), pn(PRIVATE)] });
  assert.deepEqual(removed.results.map((r) => r.status), ['removed', 'not_member']);
  await bridge.waitForEvent(SESSION, 'group_participants', (d) => d.action === 'remove' && d.participants[0].phone === pn(CONTACT), EVENT_WAIT);

  assert.deepEqual(await ok('group_update', { id: group.id, subject: 'Wauzaji wa Kariakoo', description: 'Bei za leo', announce: true, restrict: true }), {});
  const subjectEvent = await bridge.waitForEvent(SESSION, 'group_update', (d) => d.subject !== undefined, EVENT_WAIT);
  assert.equal(subjectEvent.data.subject, 'Wauzaji wa Kariakoo');
  assert.equal(subjectEvent.data.author, wa.account.jid);
  await bridge.waitForEvent(SESSION, 'group_update', (d) => d.desc === 'Bei za leo', EVENT_WAIT);
  await bridge.waitForEvent(SESSION, 'group_update', (d) => d.announce === true, EVENT_WAIT);
  await bridge.waitForEvent(SESSION, 'group_update', (d) => d.restrict === true, EVENT_WAIT);

  const { group: read } = await ok('group_metadata', { id: group.id });
  assert.equal(read.subject, 'Wauzaji wa Kariakoo');
  assert.equal(read.desc, 'Bei za leo');
  assert.equal(read.announce, true);
  assert.equal(read.restrict, true);
  assert.equal(read.size, 1);
  assert.equal(typeof read.creation, 'number');

  assert.deepEqual(await ok('group_update', { id: group.id, description: '' }), {});
  const removedDescription = await bridge.waitForEvent(SESSION, 'group_update', (d) => d.desc === '', EVENT_WAIT);
  assert.equal(removedDescription.data.author, wa.account.jid);
  assert.equal((await ok('group_metadata', { id: group.id })).group.desc, undefined);

  const { groups } = await ok('group_list');
  assert.deepEqual(groups.map((g) => g.id), [group.id]);

  const { code } = await ok('group_invite_code', { id: group.id });
  assert.equal(code, wa.group(group.id).inviteCode);
  const { code: revoked } = await ok('group_revoke_invite', { id: group.id });
  assert.notEqual(revoked, code);

  // A group where the account is an ordinary member: WhatsApp refuses admin actions.
  const theirs = wa.addGroup({ subject: 'Familia', participants: [{ phone: CONTACT, admin: 'superadmin' }], accountRole: 'member', creator: CONTACT });
  const refused = await call('group_update', { id: theirs.jid, subject: 'Yetu' });
  assert.equal(refused.error.code, 'refused');
  assert.equal(refused.error.statusCode, 401);
  const refusedAdd = await call('group_participants', { id: theirs.jid, action: 'add', participants: [pn(SHOWN)] });
  assert.equal(refusedAdd.error.code, 'refused');

  const unknown = await call('group_metadata', { id: '120363999999999999@g.us' });
  assert.equal(unknown.error.code, 'not_found');
  assert.equal(unknown.error.statusCode, 404);

  assert.deepEqual(await ok('group_leave', { id: group.id }), {});
  const gone = await call('group_metadata', { id: group.id });
  assert.equal(gone.error.code, 'not_found', 'a group we left reads as not found');

  const joinable = wa.addGroup({ subject: 'Soko', participants: [CONTACT], accountRole: 'none', creator: CONTACT });
  assert.deepEqual(await ok('group_accept_invite', { code: joinable.inviteCode }), { id: joinable.jid });
  const badCode = await call('group_accept_invite', { code: 'NoSuchCode123' });
  assert.equal(badCode.error.code, 'not_found');

  const invalid = await call('group_participants', { id: group.id, action: 'kick', participants: [pn(CONTACT)] });
  assert.equal(invalid.error.code, 'invalid_params');
  const notGroup = await call('group_metadata', { id: pn(CONTACT) });
  assert.equal(notGroup.error.code, 'invalid_params');
});

test('changes made on other phones arrive as group_participants (leave included) and group_update events', TEST_TIMEOUT, async (t) => {
  const { wa, bridge } = await linkedGroupsBridge(t);
  const group = wa.addGroup({ subject: 'Familia', participants: [{ phone: CONTACT, admin: 'superadmin' }, SHOWN], accountRole: 'member', creator: CONTACT });

  wa.changeGroupParticipants(group.jid, { action: 'add', phones: [PRIVATE], author: CONTACT });
  const added = await bridge.waitForEvent(SESSION, 'group_participants', (d) => d.action === 'add', EVENT_WAIT);
  assert.deepEqual(added.data, {
    id: group.jid,
    action: 'add',
    participants: [{ id: contact(wa, PRIVATE).lidJid, phone: pn(PRIVATE), lid: contact(wa, PRIVATE).lidJid }],
    // Baileys drops the notification's participant_pn; the author's number is only told when the LID map knows it.
    authorLid: contact(wa, CONTACT).lidJid,
  });

  wa.changeGroupParticipants(group.jid, { action: 'remove', phones: [SHOWN], author: SHOWN });
  const left = await bridge.waitForEvent(SESSION, 'group_participants', (d) => d.action === 'leave', EVENT_WAIT);
  assert.equal(left.data.participants[0].phone, pn(SHOWN));
  assert.equal(left.data.authorLid, contact(wa, SHOWN).lidJid);

  wa.changeGroupSubject(group.jid, { subject: 'Familia Yetu', author: CONTACT });
  const renamed = await bridge.waitForEvent(SESSION, 'group_update', (d) => d.subject === 'Familia Yetu', EVENT_WAIT);
  assert.deepEqual(renamed.data, { id: group.jid, subject: 'Familia Yetu', authorLid: contact(wa, CONTACT).lidJid });

  // Once the contact wrote to us, Baileys' LID map knows its number, and events name both.
  const hello = await wa.sendText(CONTACT, 'Habari', { addressing: 'lid' });
  await bridge.waitForEvent(SESSION, 'message', (d) => d.raw.key.id === hello.id, EVENT_WAIT);
  wa.notifyGroup(group.jid, { tag: 'announcement', attrs: {} }, { author: CONTACT });
  const announce = await bridge.waitForEvent(SESSION, 'group_update', (d) => d.announce === true, EVENT_WAIT);
  assert.deepEqual(announce.data, { id: group.jid, announce: true, author: pn(CONTACT), authorLid: contact(wa, CONTACT).lidJid });
});

test('group sends use the cached metadata: WhatsApp is asked for the members once, and again only after the group changed', TEST_TIMEOUT, async (t) => {
  const { wa, bridge, ok } = await linkedGroupsBridge(t);
  const group = wa.addGroup({ subject: 'Wateja', participants: [CONTACT, SHOWN] });
  const send = (text, messageId) => ok('send', { to: group.jid, messageId, text });

  await send('Habari wote', '3EB0GROUP000000000001');
  assert.equal(groupIqs(wa, 'query').length, 1, 'the first send reads the group');
  await send('Bei mpya', '3EB0GROUP000000000002');
  await send('Karibuni', '3EB0GROUP000000000003');
  assert.equal(groupIqs(wa, 'query').length, 1, 'later sends use the cache');

  // A member added on another phone: the cache follows the notification, no new read.
  wa.changeGroupParticipants(group.jid, { action: 'add', phones: [PRIVATE], author: CONTACT });
  await bridge.waitForEvent(SESSION, 'group_participants', (d) => d.action === 'add', EVENT_WAIT);
  const since = wa.decrypted.length;
  await send('Karibu mgeni', '3EB0GROUP000000000004');
  assert.equal(groupIqs(wa, 'query').length, 1);
  const toNewMember = await wa.nextDecryptedMessage({ recipient: pn(PRIVATE), since, timeoutMs: 15000 });
  assert.ok(toNewMember, 'the new member got the sender key of the next send');

  // Our own participant change drops the cached group: the next send reads it again.
  await ok('group_participants', { id: group.jid, action: 'remove', participants: [pn(SHOWN)] });
  await send('Kwaheri', '3EB0GROUP000000000005');
  assert.equal(groupIqs(wa, 'query').length, 2);
});
