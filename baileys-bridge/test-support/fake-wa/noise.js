// The server side of WhatsApp's Noise_XX_25519_AESGCM_SHA256 handshake and of the framing that follows,
// mirroring what Baileys' Utils/noise-handler.js does as the initiator.

import { proto } from 'baileys';
import { aesGcmDecrypt, aesGcmEncrypt, generateKeyPair, hkdf, sha256, sharedKey } from './crypto.js';

const NOISE_MODE = Buffer.from('Noise_XX_25519_AESGCM_SHA256\0\0\0\0');
/** 'W' 'A', protocol 6, dictionary version 3: what a client sends before its first frame. */
export const WA_HEADER = Buffer.from([87, 65, 6, 3]);

function iv(counter) {
  const buffer = Buffer.alloc(12);
  buffer.writeUInt32BE(counter, 8);
  return buffer;
}

/** Splits a byte stream into 3-byte-length-prefixed frames; strips the client's intro header first. */
export class FrameReader {
  constructor() {
    this.buffer = Buffer.alloc(0);
    this.introSeen = false;
  }

  /** @returns {Buffer[]} the complete frames now available */
  push(data) {
    this.buffer = Buffer.concat([this.buffer, data]);
    if (!this.introSeen) {
      if (this.buffer.length < 4) return [];
      if (this.buffer[0] === 0x45 && this.buffer[1] === 0x44) {
        // 'ED' edge-routing preamble: 'E' 'D' 0 1, 3-byte length, routing info, then the WA header
        if (this.buffer.length < 7) return [];
        const length = (this.buffer[4] << 16) | this.buffer.readUInt16BE(5);
        if (this.buffer.length < 7 + length + 4) return [];
        this.buffer = this.buffer.subarray(7 + length);
      }
      if (!this.buffer.subarray(0, 4).equals(WA_HEADER)) {
        throw new Error(`unexpected intro header ${this.buffer.subarray(0, 4).toString('hex')}`);
      }
      this.buffer = this.buffer.subarray(4);
      this.introSeen = true;
    }
    const frames = [];
    while (this.buffer.length >= 3) {
      const size = (this.buffer[0] << 16) | (this.buffer[1] << 8) | this.buffer[2];
      if (this.buffer.length < size + 3) break;
      frames.push(Buffer.from(this.buffer.subarray(3, size + 3)));
      this.buffer = this.buffer.subarray(size + 3);
    }
    return frames;
  }
}

export function encodeFrame(data) {
  const frame = Buffer.alloc(3 + data.length);
  frame[0] = (data.length >>> 16) & 0xff;
  frame[1] = (data.length >>> 8) & 0xff;
  frame[2] = data.length & 0xff;
  Buffer.from(data).copy(frame, 3);
  return frame;
}

class SymmetricState {
  constructor() {
    this.hash = NOISE_MODE;
    this.chainKey = NOISE_MODE;
    this.key = NOISE_MODE;
    this.counter = 0;
  }

  mixHash(data) {
    this.hash = sha256(Buffer.concat([this.hash, data]));
  }

  mixKey(inputKeyMaterial) {
    const output = hkdf(inputKeyMaterial, 64, { salt: this.chainKey });
    this.chainKey = output.subarray(0, 32);
    this.key = output.subarray(32);
    this.counter = 0;
  }

  encryptAndHash(plaintext) {
    const ciphertext = aesGcmEncrypt(plaintext, this.key, iv(this.counter++), this.hash);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  decryptAndHash(ciphertext) {
    const plaintext = aesGcmDecrypt(ciphertext, this.key, iv(this.counter++), this.hash);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** Transport keys: the initiator sends with the first half, so the server receives with it. */
  split() {
    const output = hkdf(Buffer.alloc(0), 64, { salt: this.chainKey });
    return new Transport({ receiveKey: output.subarray(0, 32), sendKey: output.subarray(32) });
  }
}

export class Transport {
  constructor({ receiveKey, sendKey }) {
    this.receiveKey = receiveKey;
    this.sendKey = sendKey;
    this.readCounter = 0;
    this.writeCounter = 0;
  }

  encrypt(plaintext) {
    return aesGcmEncrypt(plaintext, this.sendKey, iv(this.writeCounter++));
  }

  decrypt(ciphertext) {
    return aesGcmDecrypt(ciphertext, this.receiveKey, iv(this.readCounter++));
  }
}

/**
 * Server half of the XX handshake.
 * @param {object} options
 * @param {{private: Buffer, public: Buffer}} options.staticKeyPair the server's noise key
 * @param {Uint8Array} options.certChain encoded proto.CertChain whose leaf certifies staticKeyPair.public
 */
export class NoiseServerHandshake {
  constructor({ staticKeyPair, certChain }) {
    this.staticKeyPair = staticKeyPair;
    this.certChain = certChain;
    this.state = new SymmetricState();
    this.state.mixHash(WA_HEADER);
  }

  /** ClientHello frame → ServerHello frame payload (an encoded HandshakeMessage). */
  respondToHello(helloFrame) {
    const { clientHello } = proto.HandshakeMessage.decode(helloFrame);
    if (!clientHello?.ephemeral?.length) throw new Error('handshake: no client ephemeral key');
    this.clientEphemeral = Buffer.from(clientHello.ephemeral);
    this.ephemeral = generateKeyPair();
    const { state } = this;
    state.mixHash(this.clientEphemeral);
    state.mixHash(this.ephemeral.public);
    state.mixKey(sharedKey(this.ephemeral.private, this.clientEphemeral));
    const encryptedStatic = state.encryptAndHash(this.staticKeyPair.public);
    state.mixKey(sharedKey(this.staticKeyPair.private, this.clientEphemeral));
    const encryptedPayload = state.encryptAndHash(this.certChain);
    return proto.HandshakeMessage.encode({
      serverHello: { ephemeral: this.ephemeral.public, static: encryptedStatic, payload: encryptedPayload },
    }).finish();
  }

  /**
   * ClientFinish frame → the client's static noise key, its decoded proto.ClientPayload and the transport.
   */
  finish(finishFrame) {
    const { clientFinish } = proto.HandshakeMessage.decode(finishFrame);
    if (!clientFinish?.static?.length || !clientFinish?.payload?.length) throw new Error('handshake: no client finish');
    const { state } = this;
    const clientStatic = state.decryptAndHash(Buffer.from(clientFinish.static));
    state.mixKey(sharedKey(this.ephemeral.private, clientStatic));
    const payload = proto.ClientPayload.decode(state.decryptAndHash(Buffer.from(clientFinish.payload)));
    return { clientStatic, payload, transport: state.split() };
  }
}
