// A WhatsApp user's device as the fake server plays it: its own libsignal identity, signed pre-key and
// one-time pre-keys (the `libsignal` package Baileys itself uses), sessions with the client's devices,
// and the message padding WhatsApp applies inside the Signal payload.

import { randomBytes, randomInt } from 'node:crypto';
import libsignal from 'libsignal';
import { proto } from 'baileys';
import { encodeBigEndian } from './crypto.js';

const { keyhelper, ProtocolAddress, SessionBuilder, SessionCipher, SessionRecord } = libsignal;

/** `user.device` address libsignal keys sessions by, for a JID like `123:4@s.whatsapp.net` or `9@lid`. */
export function signalAddress(jid) {
  const [userPart, server] = jid.split('@');
  const [user, device = '0'] = userPart.split(':');
  // Baileys suffixes non-phone domains (LID = 1) to the user part; keep addresses distinct the same way.
  const name = server === 'lid' ? `${user}_1` : user;
  return new ProtocolAddress(name, Number(device));
}

export function padMessage(bytes) {
  const padLength = randomInt(1, 17);
  return Buffer.concat([Buffer.from(bytes), Buffer.alloc(padLength, padLength)]);
}

export function unpadMessage(bytes) {
  const padLength = bytes[bytes.length - 1];
  if (!padLength || padLength > bytes.length) throw new Error('invalid message padding');
  return bytes.subarray(0, bytes.length - padLength);
}

const stripKeyType = (key) => Buffer.from(key).subarray(Buffer.from(key).length === 33 ? 1 : 0);

export class SignalParty {
  /**
   * @param {object} options
   * @param {string} options.jid the device JID this party is (`255755000001@s.whatsapp.net` for a phone)
   * @param {number} [options.preKeyCount] one-time pre-keys to start with
   */
  constructor({ jid, preKeyCount = 20 }) {
    this.jid = jid;
    this.identity = keyhelper.generateIdentityKeyPair();
    this.registrationId = keyhelper.generateRegistrationId();
    this.signedPreKey = keyhelper.generateSignedPreKey(this.identity, randomInt(1, 0xffffff));
    this.preKeys = new Map();
    this.servedPreKeyIds = new Set();
    this.nextPreKeyId = randomInt(1, 0x7fffff);
    this.sessions = new Map(); // address → serialized SessionRecord
    this.#addPreKeys(preKeyCount);
    this.storage = {
      getOurIdentity: () => this.identity,
      getOurRegistrationId: () => this.registrationId,
      isTrustedIdentity: () => true,
      loadSession: async (address) => {
        const serialized = this.sessions.get(address);
        return serialized ? SessionRecord.deserialize(serialized) : undefined;
      },
      storeSession: async (address, record) => {
        this.sessions.set(address, record.serialize());
      },
      loadPreKey: async (id) => this.preKeys.get(Number(id))?.keyPair,
      removePreKey: async (id) => {
        this.preKeys.delete(Number(id));
      },
      loadSignedPreKey: async (id) => (Number(id) === this.signedPreKey.keyId ? this.signedPreKey.keyPair : undefined),
    };
  }

  #addPreKeys(count) {
    for (let i = 0; i < count; i++) {
      const preKey = keyhelper.generatePreKey(this.nextPreKeyId++);
      this.preKeys.set(preKey.keyId, preKey);
    }
  }

  /** The `<user>` node of an `encrypt` IQ result: identity, signed pre-key and one one-time pre-key. */
  keyBundleNode(jid = this.jid) {
    // Each one-time pre-key is handed out once, as WhatsApp's server does; the party keeps the private half
    // until a pre-key message uses it.
    let preKey = [...this.preKeys.values()].find((candidate) => !this.servedPreKeyIds.has(candidate.keyId));
    if (!preKey) {
      this.#addPreKeys(10);
      preKey = [...this.preKeys.values()].find((candidate) => !this.servedPreKeyIds.has(candidate.keyId));
    }
    this.servedPreKeyIds.add(preKey.keyId);
    return {
      tag: 'user',
      attrs: { jid },
      content: [
        { tag: 'registration', attrs: {}, content: encodeBigEndian(this.registrationId, 4) },
        { tag: 'type', attrs: {}, content: Buffer.from([5]) },
        { tag: 'identity', attrs: {}, content: stripKeyType(this.identity.pubKey) },
        {
          tag: 'skey',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(this.signedPreKey.keyId, 3) },
            { tag: 'value', attrs: {}, content: stripKeyType(this.signedPreKey.keyPair.pubKey) },
            { tag: 'signature', attrs: {}, content: Buffer.from(this.signedPreKey.signature) },
          ],
        },
        {
          tag: 'key',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(preKey.keyId, 3) },
            { tag: 'value', attrs: {}, content: stripKeyType(preKey.keyPair.pubKey) },
          ],
        },
      ],
    };
  }

  hasSession(peerJid) {
    return this.sessions.has(signalAddress(peerJid).toString());
  }

  /**
   * Starts a session towards a peer device from its published bundle.
   * @param {string} peerJid
   * @param {{registrationId: number, identityKey: Buffer, signedPreKey: {keyId, publicKey, signature}, preKey?: {keyId, publicKey}}} bundle
   *   public keys with or without the type byte
   */
  async startSession(peerJid, bundle) {
    const withType = (key) => (Buffer.from(key).length === 33 ? Buffer.from(key) : Buffer.concat([Buffer.from([5]), Buffer.from(key)]));
    const builder = new SessionBuilder(this.storage, signalAddress(peerJid));
    await builder.initOutgoing({
      registrationId: bundle.registrationId,
      identityKey: withType(bundle.identityKey),
      signedPreKey: {
        keyId: bundle.signedPreKey.keyId,
        publicKey: withType(bundle.signedPreKey.publicKey),
        signature: Buffer.from(bundle.signedPreKey.signature),
      },
      preKey: bundle.preKey ? { keyId: bundle.preKey.keyId, publicKey: withType(bundle.preKey.publicKey) } : undefined,
    });
  }

  /** Decrypts an `enc` payload from `peerJid` → the proto.Message (padding removed). */
  async decrypt(peerJid, type, ciphertext) {
    const cipher = new SessionCipher(this.storage, signalAddress(peerJid));
    let plaintext;
    if (type === 'pkmsg') plaintext = await cipher.decryptPreKeyWhisperMessage(Buffer.from(ciphertext));
    else if (type === 'msg') plaintext = await cipher.decryptWhisperMessage(Buffer.from(ciphertext));
    else throw new Error(`cannot decrypt enc type ${type}`);
    return proto.Message.decode(unpadMessage(Buffer.from(plaintext)));
  }

  /** Encrypts a proto.Message (object or instance) for `peerJid` → { type: 'pkmsg'|'msg', ciphertext }. */
  async encrypt(peerJid, message) {
    const bytes = proto.Message.encode(proto.Message.fromObject(message)).finish();
    const cipher = new SessionCipher(this.storage, signalAddress(peerJid));
    const { type, body } = await cipher.encrypt(padMessage(bytes));
    return { type: type === 3 ? 'pkmsg' : 'msg', ciphertext: Buffer.from(body, 'binary') };
  }
}

export const randomMessageId = () => `3EB0${randomBytes(8).toString('hex').toUpperCase()}`;
