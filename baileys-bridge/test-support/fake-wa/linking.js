// The phone's side of linking a device: scanning the QR code, entering a pairing code (and the `link_code_companion_reg`
// IQs behind it), then `pair-success` and the 515 restart that makes the client log in as the new device.

import { randomBytes } from 'node:crypto';
import { parseJid, SERVER_JID } from './directory.js';
import { sendStreamError } from './login.js';
import { bytes, child, childBytes, describe, newId, nowSeconds, sendIqError, sendIqResult } from './nodes.js';
import { acceptPairingCode, createSignedDeviceIdentity, finishPairingCode, parseQr, verifyDeviceSignature } from './pairing.js';
import { DEFAULT_WAIT_MS, withTimeout } from './waits.js';

/** `wa.scan(qr)`: the phone scans the QR string Baileys emitted; resolves with the linked device record. */
export async function scanQr(wa, qr, { timeoutMs = DEFAULT_WAIT_MS } = {}) {
  const { ref, noiseKey, identityKey, advSecret, platform } = parseQr(qr);
  const connection = [...wa.connections].find((conn) => conn.registration?.refs.includes(ref) && conn.isOpen);
  if (!connection) throw new Error(`fake WhatsApp: no open connection shows QR ref ${ref}`);
  const registration = connection.registration;
  if (!noiseKey.equals(connection.clientStatic)) throw new Error('QR noise key differs from the connection noise key');
  if (!identityKey.equals(registration.identityKey)) throw new Error('QR identity key differs from the registration');
  return pair(wa, connection, { advSecret, platform }, timeoutMs);
}

/** `wa.enterPairingCode(code)`: the phone's user types the code; rejects when it is wrong. */
export async function enterPairingCode(wa, code, { timeoutMs = DEFAULT_WAIT_MS } = {}) {
  // requestPairingCode does not wait for the server's answer: its request may still be on the wire.
  const request = wa.pairingCodeRequests.at(-1) ?? (await wa.waitForPairingCodeRequest({ timeoutMs }));
  if (!request.connection.isOpen) throw new Error('fake WhatsApp: the connection that asked for the code is closed');
  if (request.foreignNumber) {
    throw new Error(`fake WhatsApp: the code was requested for ${request.phone}, not for the account's phone ${wa.account.phone}`);
  }
  const { companionEphemeral, primaryEphemeral, wrappedPrimaryEphemeral } = acceptPairingCode({
    code,
    wrappedCompanionEphemeral: request.wrappedCompanionEphemeral,
  });
  const finished = new Promise((resolve, reject) => {
    request.onFinish = (finish) => {
      try {
        resolve(
          finishPairingCode({
            wrappedKeyBundle: finish.wrappedKeyBundle,
            primaryEphemeral,
            companionEphemeral,
            accountIdentity: wa.account.phoneParty.identity,
            companionIdentityKey: request.connection.registration.identityKey,
          }),
        );
      } catch (error) {
        reject(error);
      }
    };
  });
  request.connection.sendNode({
    tag: 'notification',
    attrs: { from: SERVER_JID, type: 'link_code_companion_reg', id: newId(), t: String(nowSeconds()) },
    content: [
      {
        tag: 'link_code_companion_reg',
        attrs: {},
        content: [
          { tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(request.ref) },
          { tag: 'primary_identity_pub', attrs: {}, content: Buffer.from(wa.account.phoneParty.identity.pubKey).subarray(1) },
          { tag: 'link_code_pairing_wrapped_primary_ephemeral_pub', attrs: {}, content: wrappedPrimaryEphemeral },
        ],
      },
    ],
  });
  const advSecret = await withTimeout(finished, timeoutMs, 'companion_finish after the pairing code');
  return pair(wa, request.connection, { advSecret, platform: 'pairing-code' }, timeoutMs);
}

async function pair(wa, connection, { advSecret, platform }, timeoutMs) {
  const registration = connection.registration;
  const record = wa.directory.linkDevice({
    noiseKey: connection.clientStatic,
    identityKey: registration.identityKey,
    registrationId: registration.registrationId,
    signedPreKey: registration.signedPreKey,
    advSecret,
    platform,
  });
  const identity = createSignedDeviceIdentity({
    accountIdentity: wa.account.phoneParty.identity,
    companionIdentityKey: registration.identityKey,
    advSecret,
    keyIndex: record.keyIndex,
  });
  const reply = await connection.query(
    {
      tag: 'iq',
      attrs: { from: SERVER_JID, type: 'set', t: String(nowSeconds()) },
      content: [
        {
          tag: 'pair-success',
          attrs: {},
          content: [
            { tag: 'device-identity', attrs: { 'key-index': String(record.keyIndex) }, content: identity.content },
            { tag: 'platform', attrs: { name: 'android' } },
            { tag: 'device', attrs: { jid: record.jid, lid: record.lidJid } },
          ],
        },
      ],
    },
    { timeoutMs },
  );
  const replyIdentity = childBytes(child(reply, 'pair-device-sign'), 'device-identity');
  if (reply.attrs.type !== 'result' || !replyIdentity) {
    wa.directory.removeDevice(record.jid);
    throw new Error(`client refused pair-success: ${describe(reply)}`);
  }
  if (
    !verifyDeviceSignature({
      replyIdentity,
      details: identity.details,
      companionIdentityKey: registration.identityKey,
      accountSignatureKey: identity.accountSignatureKey,
    })
  ) {
    wa.directory.removeDevice(record.jid);
    throw new Error('client countersignature of the device identity does not verify');
  }
  record.confirmed = true;
  // WhatsApp restarts the stream so the client logs in as the new device.
  sendStreamError(connection, { code: 515 });
  wa.emit('paired', record);
  return record;
}

/** The `md` `link_code_companion_reg` IQs: `companion_hello` asks for a code, `companion_finish` ends the exchange. */
export function answerLinkCode(wa, connection, iq, node) {
  const stage = node.attrs.stage;
  if (stage === 'companion_hello') {
    if (!connection.registration) return sendIqError(connection, iq, 400, 'bad-request');
    const request = {
      connection,
      phone: parseJid(node.attrs.jid).user,
      ref: `link-${randomBytes(12).toString('hex')}`,
      wrappedCompanionEphemeral: childBytes(node, 'link_code_pairing_wrapped_companion_ephemeral_pub'),
      companionNoiseKey: childBytes(node, 'companion_server_auth_key_pub'),
      at: Date.now(),
    };
    if (request.phone !== wa.account.phone) {
      // WhatsApp only sends the code to the phone of that number; no one can ever enter it here.
      request.foreignNumber = true;
    }
    wa.pairingCodeRequests.push(request);
    sendIqResult(connection, iq, [
      { tag: 'link_code_companion_reg', attrs: {}, content: [{ tag: 'link_code_pairing_ref', attrs: {}, content: Buffer.from(request.ref) }] },
    ]);
    wa.emit('pairing-code-request', request);
    return;
  }
  if (stage === 'companion_finish') {
    const request = wa.pairingCodeRequests.find((candidate) => candidate.ref === bytes(child(node, 'link_code_pairing_ref'))?.toString());
    sendIqResult(connection, iq);
    request?.onFinish?.({ wrappedKeyBundle: childBytes(node, 'link_code_pairing_wrapped_key_bundle') });
    return;
  }
  sendIqError(connection, iq, 400, 'bad-request');
}
