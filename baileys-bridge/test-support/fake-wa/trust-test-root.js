// `node --import <this file>` preload for a child process (e.g. the bridge) that must connect to a fake
// WhatsApp server started by the parent test: makes that process's Baileys trust the server's test root.
// The parent passes `wa.childEnv` (WAPBRIDGE_FAKE_WA_ROOT = "<serial>:<root public key hex>").
// Without the variable this does nothing.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const value = process.env.WAPBRIDGE_FAKE_WA_ROOT;
if (value) {
  const [serial, publicKeyHex] = value.split(':');
  if (!/^\d+$/.test(serial ?? '') || !/^[0-9a-f]{64}$/i.test(publicKeyHex ?? '')) {
    throw new Error('WAPBRIDGE_FAKE_WA_ROOT must be "<serial>:<64 hex digits>"');
  }
  // The Baileys the process will load is the one its working directory (the bridge folder) resolves: in a published
  // copy of the bridge that is another module instance than the one next to this file.
  const resolveFrom = (directory) => {
    try {
      return createRequire(path.join(directory, 'preload.js')).resolve('baileys');
    } catch {
      return null;
    }
  };
  const entry = resolveFrom(process.cwd()) ?? resolveFrom(path.dirname(fileURLToPath(import.meta.url)));
  const { WA_CERT_DETAILS } = await import(pathToFileURL(entry).href);
  WA_CERT_DETAILS.SERIAL = Number(serial);
  WA_CERT_DETAILS.PUBLIC_KEY = Buffer.from(publicKeyHex, 'hex');
}
