// `node --import <this file>` preload for a child process (e.g. the bridge) that must connect to a fake
// WhatsApp server started by the parent test: makes that process's Baileys trust the server's test root.
// The parent passes `wa.childEnv` (WAPBRIDGE_FAKE_WA_ROOT = "<serial>:<root public key hex>").
// Without the variable this does nothing.

import { WA_CERT_DETAILS } from 'baileys';

const value = process.env.WAPBRIDGE_FAKE_WA_ROOT;
if (value) {
  const [serial, publicKeyHex] = value.split(':');
  if (!/^\d+$/.test(serial ?? '') || !/^[0-9a-f]{64}$/i.test(publicKeyHex ?? '')) {
    throw new Error('WAPBRIDGE_FAKE_WA_ROOT must be "<serial>:<64 hex digits>"');
  }
  WA_CERT_DETAILS.SERIAL = Number(serial);
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(publicKeyHex, 'hex');
}
