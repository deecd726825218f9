// Crypto primitives of the fake WhatsApp server, built on Node's crypto and the curve25519 code of the
// `libsignal` package Baileys depends on (so keys and signatures match what Baileys verifies).

import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import libsignal from 'libsignal';

const { curve } = libsignal;
const KEY_TYPE = 5;

/** 32-byte Curve25519 public key → the 33-byte form libsignal expects (type byte 5 in front). */
export function signalPublicKey(publicKey) {
  const key = Buffer.from(publicKey);
  return key.length === 33 ? key : Buffer.concat([Buffer.from([KEY_TYPE]), key]);
}

/** A key pair in Baileys' shape: `public` without the type byte. */
export function generateKeyPair() {
  const { pubKey, privKey } = curve.generateKeyPair();
  return { private: Buffer.from(privKey), public: Buffer.from(pubKey).subarray(1) };
}

export function sharedKey(privateKey, publicKey) {
  return Buffer.from(curve.calculateAgreement(signalPublicKey(publicKey), privateKey));
}

export function sign(privateKey, message) {
  return Buffer.from(curve.calculateSignature(privateKey, message));
}

/** Whether `signature` is valid (libsignal's verifySignature returns the result; it throws only on bad input). */
export function verify(publicKey, message, signature) {
  try {
    return curve.verifySignature(signalPublicKey(publicKey), message, signature) === true;
  } catch {
    return false;
  }
}

export function sha256(data) {
  return createHash('sha256').update(data).digest();
}

export function hmacSha256(data, key) {
  return createHmac('sha256', key).update(data).digest();
}

export function hkdf(ikm, length, { salt = Buffer.alloc(0), info = '' } = {}) {
  return Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from(info), length));
}

const GCM_TAG_BYTES = 16;

export function aesGcmEncrypt(plaintext, key, iv, aad = Buffer.alloc(0)) {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

export function aesGcmDecrypt(ciphertext, key, iv, aad = Buffer.alloc(0)) {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES));
  return Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - GCM_TAG_BYTES)), decipher.final()]);
}

export function aesCtr(data, key, iv) {
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** Big-endian unsigned integer of `bytes` bytes, as WhatsApp encodes registration ids and key ids. */
export function encodeBigEndian(value, bytes = 4) {
  const buffer = Buffer.alloc(bytes);
  let remaining = value;
  for (let i = bytes - 1; i >= 0; i--) {
    buffer[i] = remaining & 0xff;
    remaining = Math.floor(remaining / 256);
  }
  return buffer;
}

export function decodeBigEndian(buffer) {
  let value = 0;
  for (const byte of buffer) value = value * 256 + byte;
  return value;
}
