// One client WebSocket on the fake server: the Noise handshake, then encrypted binary nodes both ways.

import { randomBytes } from 'node:crypto';
import { decodeBinaryNode, encodeBinaryNode } from 'baileys';
import { encodeFrame, FrameReader, NoiseServerHandshake } from './noise.js';

let nextConnectionId = 1;

export class FakeConnection {
  /**
   * @param {object} options
   * @param {import('ws').WebSocket} options.ws
   * @param {object} options.noise { staticKeyPair, certChain }
   * @param {(connection, login) => Promise<void>} options.onHandshake called with { clientStatic, payload }
   * @param {(connection, node) => Promise<void>} options.onNode
   * @param {(connection, error) => void} options.onError
   * @param {(connection) => void} options.onClose
   */
  constructor({ ws, noise, onHandshake, onNode, onError, onClose }) {
    this.id = nextConnectionId++;
    this.ws = ws;
    this.reader = new FrameReader();
    this.handshake = new NoiseServerHandshake(noise);
    this.stage = 'hello';
    this.transport = null;
    this.queue = Promise.resolve();
    this.pendingQueries = new Map(); // iq id → { resolve, reject, timer }
    this.closed = false;
    this.device = null; // the paired companion once logged in
    this.onHandshake = onHandshake;
    this.onNode = onNode;
    this.onError = onError;

    ws.on('message', (data) => this.#onData(Buffer.from(data)));
    ws.on('close', () => {
      this.closed = true;
      this.#failPending();
      onClose(this);
    });
    ws.on('error', (error) => onError(this, error));
  }

  get isOpen() {
    return !this.closed && this.ws.readyState === this.ws.OPEN;
  }

  #onData(data) {
    let frames;
    try {
      frames = this.reader.push(data);
    } catch (error) {
      this.onError(this, error);
      this.terminate();
      return;
    }
    for (const frame of frames) {
      // Frames are handled one after the other: decoding is async, and their order matters.
      this.queue = this.queue.then(() => this.#onFrame(frame)).catch((error) => this.onError(this, error));
    }
  }

  async #onFrame(frame) {
    if (this.closed) return;
    switch (this.stage) {
      case 'hello':
        this.ws.send(encodeFrame(this.handshake.respondToHello(frame)));
        this.stage = 'finish';
        return;
      case 'finish': {
        const { clientStatic, payload, transport } = this.handshake.finish(frame);
        this.transport = transport;
        this.stage = 'open';
        this.clientStatic = clientStatic;
        this.payload = payload;
        await this.onHandshake(this, { clientStatic, payload });
        return;
      }
      default: {
        const node = await decodeBinaryNode(this.transport.decrypt(frame));
        const pending = node.tag === 'iq' && this.pendingQueries.get(node.attrs.id);
        if (pending && (node.attrs.type === 'result' || node.attrs.type === 'error')) {
          this.pendingQueries.delete(node.attrs.id);
          clearTimeout(pending.timer);
          pending.resolve(node);
        }
        await this.onNode(this, node);
      }
    }
  }

  /** Sends a binary node; a no-op once the socket is gone (the test may race a close). */
  sendNode(node) {
    if (!this.isOpen || !this.transport) return false;
    this.ws.send(encodeFrame(this.transport.encrypt(encodeBinaryNode(node))));
    return true;
  }

  /** Sends an IQ and resolves with the client's `result`/`error` IQ of the same id. */
  query(node, { timeoutMs = 5000 } = {}) {
    const id = node.attrs.id ?? randomBytes(6).toString('hex');
    const iq = { ...node, attrs: { ...node.attrs, id } };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingQueries.delete(id);
        reject(new Error(`client did not answer iq ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingQueries.set(id, { resolve, reject, timer });
      if (!this.sendNode(iq)) {
        clearTimeout(timer);
        this.pendingQueries.delete(id);
        reject(new Error('connection is not open'));
      }
    });
  }

  /** Closes the WebSocket the way the server does after a stream error or failure. */
  close() {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close();
  }

  terminate() {
    this.ws.terminate();
  }

  /** Drops the socket and fails what still waits on it (the server is stopping). */
  dispose() {
    this.#failPending();
    this.terminate();
  }

  #failPending() {
    for (const { reject, timer } of this.pendingQueries.values()) {
      clearTimeout(timer);
      reject(new Error('connection closed'));
    }
    this.pendingQueries.clear();
  }
}
