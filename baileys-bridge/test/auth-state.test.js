import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferJSON, proto } from 'baileys';
import { loadHostAuthState, serializeAuthValue } from '../src/auth-state.js';
import { FakeHostAuthStore } from '../test-support/harness.js';

function hostFor(store, session = 'S1') {
  return (op, params) => {
    const answer = store.answer({ session, op, params });
    return answer.ok ? Promise.resolve(answer.result) : Promise.reject(new Error(answer.error.message));
  };
}

test('no stored creds: fresh creds from initAuthCreds are saved, and load back identical', async () => {
  const store = new FakeHostAuthStore();
  const first = await loadHostAuthState(hostFor(store));
  assert.equal(first.isNew, true);
  assert.deepEqual(
    store.calls.map((call) => call.op),
    ['load_creds', 'save_creds'],
  );
  assert.ok(Buffer.isBuffer(first.state.creds.noiseKey.private));
  const saved = JSON.parse(store.creds.get('S1'));
  assert.equal(saved.noiseKey.public.type, 'Buffer');
  assert.equal(typeof saved.noiseKey.public.data, 'string', 'Buffers are stored as base64 by BufferJSON.replacer');

  // Baileys mutates creds in place; saveCreds stores the whole object.
  first.state.creds.registered = true;
  await first.saveCreds();

  const second = await loadHostAuthState(hostFor(store));
  assert.equal(second.isNew, false);
  assert.equal(second.state.creds.registered, true);
  assert.deepEqual(second.state.creds.noiseKey.private, first.state.creds.noiseKey.private);
  assert.equal(second.state.creds.registrationId, first.state.creds.registrationId);
});

test('keys: set_keys stores serialized values, null deletes, get_keys returns only present ids', async () => {
  const store = new FakeHostAuthStore();
  const { state } = await loadHostAuthState(hostFor(store));
  const preKey = { private: Buffer.from('priv'), public: Buffer.from('pub') };
  await state.keys.set({ 'pre-key': { 1: preKey, 2: preKey }, session: { 'a.0': Buffer.from('sess') } });
  const setCall = store.calls.find((call) => call.op === 'set_keys');
  assert.equal(typeof setCall.params.data['pre-key']['1'], 'string');
  assert.deepEqual(JSON.parse(setCall.params.data['pre-key']['1'], BufferJSON.reviver), preKey);

  await state.keys.set({ 'pre-key': { 2: null } });
  const loaded = await state.keys.get('pre-key', ['1', '2', '3']);
  assert.deepEqual(Object.keys(loaded), ['1']);
  assert.deepEqual(loaded['1'], preKey);
  assert.deepEqual(store.calls.at(-1).params, { category: 'pre-key', ids: ['1', '2', '3'] });
  assert.deepEqual((await state.keys.get('session', ['a.0']))['a.0'], Buffer.from('sess'));
});

test('app-state-sync-key values come back as protobuf instances', async () => {
  const store = new FakeHostAuthStore();
  const { state } = await loadHostAuthState(hostFor(store));
  const keyData = proto.Message.AppStateSyncKeyData.fromObject({ keyData: Buffer.from('secret'), timestamp: 5 });
  await state.keys.set({ 'app-state-sync-key': { AAA: keyData } });
  const { AAA } = await state.keys.get('app-state-sync-key', ['AAA']);
  assert.ok(AAA instanceof proto.Message.AppStateSyncKeyData);
  assert.deepEqual(Buffer.from(AAA.keyData), Buffer.from('secret'));
});

test('serializeAuthValue uses the BufferJSON encoding', () => {
  assert.equal(serializeAuthValue({ b: Buffer.from([1]) }), '{"b":{"type":"Buffer","data":"AQ=="}}');
});
