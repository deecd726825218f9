// The phone's side of linking a companion device: the QR code it scans, the signed device identity it
// hands out in `pair-success` (checked by Baileys' configureSuccessfulPairing), and the pairing-code
// ("link code") key exchange.

import { pbkdf2Sync, randomBytes, randomInt } from 'node:crypto';
import { proto } from 'baileys';
import { aesCtr, aesGcmDecrypt, generateKeyPair, hkdf, hmacSha256, sharedKey, sign, verify } from './crypto.js';

const ACCOUNT_SIGNATURE_PREFIX = Buffer.from([6, 0]);
const DEVICE_SIGNATURE_PREFIX = Buffer.from([6, 1]);

/** `https://wa.me/settings/linked_devices#ref,noiseKey,identityKey,advSecret,platform` → its parts. */
export function parseQr(qr) {
  const data = qr.includes('#') ? qr.slice(qr.indexOf('#') + 1) : qr;
  const [ref, noiseKey, identityKey, advSecret, platform] = data.split(',');
  if (!ref || !noiseKey || !identityKey || !advSecret) throw new Error(`not a WhatsApp pairing QR: ${qr}`);
  return {
    ref,
    noiseKey: Buffer.from(noiseKey, 'base64'),
    identityKey: Buffer.from(identityKey, 'base64'),
    advSecret: Buffer.from(advSecret, 'base64'),
    platform,
  };
}

/**
 * The `device-identity` content of `pair-success`: the account (phone) signs the companion's identity key.
 * @param {object} options
 * @param {{privKey: Buffer, pubKey: Buffer}} options.accountIdentity the phone's identity key pair (libsignal shape)
 * @param {Buffer} options.companionIdentityKey the companion's 32-byte identity public key
 * @param {Buffer} options.advSecret the secret shared through the QR code or the pairing code
 * @param {number} options.keyIndex
 */
export function createSignedDeviceIdentity({ accountIdentity, companionIdentityKey, advSecret, keyIndex }) {
  const details = proto.ADVDeviceIdentity.encode({
    rawId: randomInt(1, 0x7fffffff),
    timestamp: Math.floor(Date.now() / 1000),
    keyIndex,
  }).finish();
  const accountSignatureKey = Buffer.from(accountIdentity.pubKey).subarray(1);
  const accountSignature = sign(
    accountIdentity.privKey,
    Buffer.concat([ACCOUNT_SIGNATURE_PREFIX, details, companionIdentityKey]),
  );
  const signed = proto.ADVSignedDeviceIdentity.encode({ details, accountSignatureKey, accountSignature }).finish();
  return {
    details,
    accountSignatureKey,
    content: proto.ADVSignedDeviceIdentityHMAC.encode({ details: signed, hmac: hmacSha256(signed, advSecret) }).finish(),
  };
}

/** Checks the companion's counter-signature in its `pair-device-sign` reply. */
export function verifyDeviceSignature({ replyIdentity, details, companionIdentityKey, accountSignatureKey }) {
  const account = proto.ADVSignedDeviceIdentity.decode(replyIdentity);
  if (!Buffer.from(account.details).equals(Buffer.from(details))) return false;
  const message = Buffer.concat([DEVICE_SIGNATURE_PREFIX, details, companionIdentityKey, accountSignatureKey]);
  return verify(companionIdentityKey, message, Buffer.from(account.deviceSignature ?? []));
}

function pairingCodeKey(code, salt) {
  // What Baileys' derivePairingCodeKey computes: PBKDF2-SHA256, 2<<16 rounds, 32 bytes.
  return pbkdf2Sync(Buffer.from(code, 'utf8'), salt, 2 << 16, 32, 'sha256');
}

/**
 * The phone after its user typed the pairing code: unwraps the companion's ephemeral key and wraps its own.
 * @returns {{ companionEphemeral: Buffer, primaryEphemeral: {private, public}, wrappedPrimaryEphemeral: Buffer }}
 */
export function acceptPairingCode({ code, wrappedCompanionEphemeral }) {
  const salt = wrappedCompanionEphemeral.subarray(0, 32);
  const iv = wrappedCompanionEphemeral.subarray(32, 48);
  const companionEphemeral = aesCtr(wrappedCompanionEphemeral.subarray(48, 80), pairingCodeKey(code, salt), iv);
  const primaryEphemeral = generateKeyPair();
  const newSalt = randomBytes(32);
  const newIv = randomBytes(16);
  const wrappedPrimaryEphemeral = Buffer.concat([
    newSalt,
    newIv,
    aesCtr(primaryEphemeral.public, pairingCodeKey(code, newSalt), newIv),
  ]);
  return { companionEphemeral, primaryEphemeral, wrappedPrimaryEphemeral };
}

/**
 * The companion's `companion_finish` key bundle → the ADV secret both sides now share.
 * @throws when the bundle does not decrypt (the code was wrong) or names other identities
 */
export function finishPairingCode({ wrappedKeyBundle, primaryEphemeral, companionEphemeral, accountIdentity, companionIdentityKey }) {
  const companionShared = sharedKey(primaryEphemeral.private, companionEphemeral);
  const salt = wrappedKeyBundle.subarray(0, 32);
  const iv = wrappedKeyBundle.subarray(32, 44);
  const key = hkdf(companionShared, 32, { salt, info: 'link_code_pairing_key_bundle_encryption_key' });
  const bundle = aesGcmDecrypt(wrappedKeyBundle.subarray(44), key, iv);
  const bundledCompanionIdentity = bundle.subarray(0, 32);
  const bundledPrimaryIdentity = bundle.subarray(32, 64);
  const random = bundle.subarray(64);
  if (!bundledCompanionIdentity.equals(companionIdentityKey)) throw new Error('key bundle names another companion identity');
  if (!bundledPrimaryIdentity.equals(Buffer.from(accountIdentity.pubKey).subarray(1))) {
    throw new Error('key bundle names another primary identity');
  }
  const identityShared = sharedKey(accountIdentity.privKey, companionIdentityKey);
  return hkdf(Buffer.concat([companionShared, identityShared, random]), 32, { info: 'adv_secret' });
}
