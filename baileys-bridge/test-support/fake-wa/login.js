// After the Noise handshake: a registration (the QR stage) or a login, and how the server ends a connection
// (`<failure>`, `<stream:error>`); after a login, the offline queue and the phone's initial history sync.

import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { proto } from 'baileys';
import { decodeBigEndian } from './crypto.js';
import { SERVER_JID } from './directory.js';
import { buildMessageNode } from './contact-sends.js';
import { nowSeconds } from './nodes.js';

/** Close codes and how the server produces each, as WhatsApp does. */
const STREAM_ERROR_CODES = new Set([401, 408, 428, 500, 503, 515]);
const FAILURE_CODES = new Set([402, 403, 405, 406, 409, 411, 419]);

/** `onHandshake` of a FakeConnection: the client's payload says whether it registers (QR stage) or logs in. */
export async function handleHandshake(wa, connection, { payload }) {
  if (payload.devicePairingData) {
    const data = payload.devicePairingData;
    connection.registration = {
      registrationId: decodeBigEndian(data.eRegid),
      identityKey: Buffer.from(data.eIdent),
      signedPreKey: {
        keyId: decodeBigEndian(data.eSkeyId),
        publicKey: Buffer.from(data.eSkeyVal),
        signature: Buffer.from(data.eSkeySig),
      },
      refs: Array.from({ length: wa.qrRefs }, () => `2@${randomBytes(24).toString('base64')}`),
      pushName: payload.pushName,
    };
    // Not awaited: the client's answer arrives as a later frame of this same connection.
    connection
      .query({
        tag: 'iq',
        attrs: { from: SERVER_JID, type: 'set', xmlns: 'md' },
        content: [
          {
            tag: 'pair-device',
            attrs: {},
            content: connection.registration.refs.map((ref) => ({ tag: 'ref', attrs: {}, content: Buffer.from(ref) })),
          },
        ],
      })
      .then((answer) => {
        if (answer.attrs.type === 'result') wa.emit('qr-stage', { connection, refs: connection.registration.refs, at: Date.now() });
      })
      .catch((error) => wa.errors.push({ connection: connection.id, error }));
    return;
  }

  const username = String(payload.username ?? '');
  const jid = `${username}:${payload.device ?? 0}@${SERVER_JID}`;
  const device = wa.directory.deviceFor(jid);
  const failure = wa.loginFailures[0];
  if (failure) {
    if (failure.once) wa.loginFailures.shift();
    sendFailure(connection, failure.code, failure.attrs);
    return;
  }
  if (!device || !device.confirmed || !device.noiseKey.equals(connection.clientStatic)) {
    // What WhatsApp answers a device it does not know (never linked, unlinked, or half-registered).
    sendFailure(connection, 401, { location: 'fake' });
    return;
  }
  connection.device = device;
  const firstLogin = !device.everLoggedIn;
  device.everLoggedIn = true;
  connection.sendNode({
    tag: 'success',
    attrs: {
      t: String(nowSeconds()),
      lid: device.lidJid,
      props: '1',
      abprops: '1',
      location: 'fake',
      creation: String(nowSeconds()),
    },
  });
  wa.emit('login', { connection, device, firstLogin });
  // After the success handler ran on the client side, deliver what waited while it was offline.
  setImmediate(() => {
    flushOffline(wa, connection).catch((error) => wa.errors.push({ connection: connection.id, error }));
    if (firstLogin && wa.historySync) {
      sendInitialHistorySync(wa, connection).catch((error) => wa.errors.push({ connection: connection.id, error }));
    }
  });
}

/** `wa.closeWith(code)`: ends the live connection the way WhatsApp ends it with `code`. */
export function closeWith(wa, code, { attrs = {}, connection = wa.liveConnection() } = {}) {
  if (code === 428) {
    connection.close();
  } else if (code === 440) {
    sendStreamError(connection, { attrs, content: [{ tag: 'conflict', attrs: { type: 'replaced' } }] });
  } else if (code === 401) {
    if (connection.device) wa.directory.removeDevice(connection.device.jid);
    sendStreamError(connection, { code, attrs, content: [{ tag: 'conflict', attrs: { type: 'device_removed' } }] });
  } else if (FAILURE_CODES.has(code)) {
    sendFailure(connection, code, attrs);
  } else if (STREAM_ERROR_CODES.has(code) || code >= 400) {
    sendStreamError(connection, { code, attrs });
  } else {
    throw new Error(`fake WhatsApp: no close behaviour for code ${code}`);
  }
}

export async function flushOffline(wa, connection) {
  const items = wa.offlineQueue.splice(0);
  for (const item of items) {
    const message = item.message ?? { conversation: item.text };
    const node = await buildMessageNode(wa, item.from, message, { id: item.id, offline: true, device: connection.device, addressing: item.addressing });
    connection.sendNode(node);
  }
  connection.sendNode({ tag: 'ib', attrs: { from: SERVER_JID }, content: [{ tag: 'offline', attrs: { count: String(items.length) } }] });
}

/**
 * The phone's initial history sync, inline: lets Baileys leave its "awaiting initial sync" hold. Empty unless the
 * server was started with `historySync: { conversations }`.
 */
async function sendInitialHistorySync(wa, connection) {
  const conversations = typeof wa.historySync === 'object' ? wa.historySync.conversations ?? [] : [];
  await sendHistorySync(wa, { syncType: 'INITIAL_BOOTSTRAP', conversations, connection });
}

/**
 * `wa.sendHistorySync(…)`: the phone sends a history sync notification to its linked device, the payload inline
 * (deflated `HistorySync`), from the account's own phone as WhatsApp does.
 * @param {object} options
 * @param {'INITIAL_BOOTSTRAP'|'RECENT'|'PUSH_NAME'|'ON_DEMAND'} [options.syncType='RECENT']
 * @param {object[]} [options.conversations] `proto.Conversation`s: `{ id, pnJid?, lidJid?, displayName?, name? }`
 * @param {Array<{id: string, pushname: string}>} [options.pushnames] for `PUSH_NAME`
 */
export async function sendHistorySync(wa, { syncType = 'RECENT', conversations = [], pushnames = [], connection = wa.liveConnection() } = {}) {
  const type = proto.HistorySync.HistorySyncType[syncType];
  const history = proto.HistorySync.encode({ syncType: type, conversations, pushnames, progress: 100 }).finish();
  const message = {
    protocolMessage: {
      type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
      historySyncNotification: {
        syncType: type,
        initialHistBootstrapInlinePayload: deflateSync(history),
        progress: 100,
      },
    },
  };
  const node = await buildMessageNode(wa, wa.account.phone, message, { device: connection.device, attrs: { category: 'peer' } });
  connection.sendNode(node);
  return node;
}

export function sendFailure(connection, code, attrs = {}) {
  connection.sendNode({ tag: 'failure', attrs: { reason: String(code), ...attrs } });
  setTimeout(() => connection.close(), 20);
}

export function sendStreamError(connection, { code, attrs = {}, content }) {
  const nodeAttrs = { ...attrs };
  if (code !== undefined) nodeAttrs.code = String(code);
  connection.sendNode({ tag: 'stream:error', attrs: nodeAttrs, content });
  setTimeout(() => connection.close(), 20);
}
