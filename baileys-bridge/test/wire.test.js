import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proto } from 'baileys';
import { toWire, toNumber } from '../src/wire.js';

// A real protobufjs Long, as Baileys produces them, without depending on the 'long' package ourselves.
function realLong(value) {
  const decoded = proto.WebMessageInfo.decode(
    proto.WebMessageInfo.encode({ key: {}, messageTimestamp: value }).finish(),
  );
  return decoded.messageTimestamp;
}

test('Longs become numbers, Buffers and Uint8Arrays become base64 Buffer objects', () => {
  assert.equal(typeof realLong(7), 'object', 'protobufjs decodes uint64 into Long objects');
  const wire = toWire({
    messageTimestamp: realLong(1764288000),
    fileLength: { low: 5, high: 1, unsigned: true },
    mediaKey: Buffer.from([1, 2, 3]),
    fileSha256: new Uint8Array([255, 0]),
    nested: [{ at: realLong(2 ** 40) }],
    gone: undefined,
  });
  assert.deepEqual(wire, {
    messageTimestamp: 1764288000,
    fileLength: 4294967301,
    mediaKey: { type: 'Buffer', data: 'AQID' },
    fileSha256: { type: 'Buffer', data: '/wA=' },
    nested: [{ at: 2 ** 40 }],
  });
});

test('protobuf instances are walked field by field, not through their toJSON', () => {
  const message = proto.WebMessageInfo.decode(
    proto.WebMessageInfo.encode({
      key: { remoteJid: '491701234567@s.whatsapp.net', fromMe: false, id: 'ABC' },
      messageTimestamp: 1764288000,
      status: proto.WebMessageInfo.Status.DELIVERY_ACK,
      message: { imageMessage: { caption: 'hi', mediaKey: Buffer.from('key'), fileLength: 12345 } },
    }).finish(),
  );
  const wire = JSON.parse(JSON.stringify(toWire(message)));
  assert.equal(wire.messageTimestamp, 1764288000);
  assert.equal(wire.status, 3, 'enums stay numbers');
  assert.equal(wire.message.imageMessage.fileLength, 12345);
  assert.deepEqual(wire.message.imageMessage.mediaKey, { type: 'Buffer', data: Buffer.from('key').toString('base64') });
  assert.equal(wire.key.id, 'ABC');
  assert.equal('videoMessage' in wire.message, false, 'unset fields stay absent');
});

test('toNumber accepts numbers, Longs, bigints and numeric strings', () => {
  assert.equal(toNumber(5), 5);
  assert.equal(toNumber(realLong(7)), 7);
  assert.equal(toNumber(9n), 9);
  assert.equal(toNumber('11'), 11);
  assert.equal(toNumber(null), undefined);
});
