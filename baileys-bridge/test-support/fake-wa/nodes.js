// Helpers over Baileys' BinaryNode shape ({ tag, attrs, content }), and the attributes and IQ answers the server
// writes into them.

import { randomBytes } from 'node:crypto';
import { SERVER_JID } from './directory.js';

export const nowSeconds = () => Math.floor(Date.now() / 1000);
export const newId = () => randomBytes(8).toString('hex').toUpperCase();

export function children(node, tag) {
  if (!Array.isArray(node?.content)) return [];
  return tag ? node.content.filter((child) => child.tag === tag) : node.content;
}

export function child(node, tag) {
  return children(node, tag)[0];
}

export function bytes(node) {
  const content = node?.content;
  if (content instanceof Uint8Array) return Buffer.from(content);
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return undefined;
}

export function childBytes(node, tag) {
  return bytes(child(node, tag));
}

export function text(node) {
  return bytes(node)?.toString('utf8');
}

/** A short XML-like rendering for assertion messages and logs. */
export function describe(node) {
  if (!node || typeof node !== 'object') return String(node);
  const attrs = Object.entries(node.attrs ?? {})
    .map(([key, value]) => ` ${key}="${value}"`)
    .join('');
  if (Array.isArray(node.content)) return `<${node.tag}${attrs}>${node.content.map(describe).join('')}</${node.tag}>`;
  if (node.content instanceof Uint8Array) return `<${node.tag}${attrs}>[${node.content.length} bytes]</${node.tag}>`;
  if (typeof node.content === 'string') return `<${node.tag}${attrs}>${node.content}</${node.tag}>`;
  return `<${node.tag}${attrs}/>`;
}

/** The server's `result` answer to an IQ of the client. */
export function sendIqResult(connection, iq, content) {
  connection.sendNode({
    tag: 'iq',
    attrs: { from: SERVER_JID, type: 'result', id: iq.attrs.id },
    content,
  });
}

export function sendIqError(connection, iq, code, text) {
  connection.sendNode({
    tag: 'iq',
    attrs: { from: SERVER_JID, type: 'error', id: iq.attrs.id },
    content: [{ tag: 'error', attrs: { code: String(code), text } }],
  });
}
