// A test certificate authority standing in for WhatsApp's noise root ("WhatsAppLongTerm1").
//
// Baileys checks the server's noise certificate chain in Utils/noise-handler.js (processHandshake): the
// intermediate certificate must be signed by `WA_CERT_DETAILS.PUBLIC_KEY` and name `WA_CERT_DETAILS.SERIAL`
// as its issuer, and the leaf must be signed by the intermediate's key. `WA_CERT_DETAILS` is an exported,
// unfrozen object that the noise handler reads at every handshake, so a test process can point Baileys at
// a test root by overwriting its fields before connecting (`trustTestRoot`). It is per process: a bridge
// running in a child process needs the same done there (see trust-test-root.js). (rc14 effectively checks
// only the serial: its Curve.verify ignores libsignal's result; see README.md.)

import { proto, WA_CERT_DETAILS } from 'baileys';
import { generateKeyPair, sign } from './crypto.js';

const ROOT_SERIAL = 4242;
const INTERMEDIATE_SERIAL = 4243;

let processRoot;

/** One test root per process, so several fake servers can run side by side under the same trust. */
function sharedRoot() {
  processRoot ??= generateKeyPair();
  return processRoot;
}

/**
 * @param {object} [root] a fixed root ({ private, public }, 32-byte keys); by default this process's test root
 * @returns a root key pair, its serial, and `certChainFor(serverStaticPublicKey)` → encoded proto.CertChain
 */
export function createTestCertificateAuthority(root = sharedRoot(), serial = ROOT_SERIAL) {
  const intermediate = generateKeyPair();
  const now = Math.floor(Date.now() / 1000);
  const intermediateDetails = proto.CertChain.NoiseCertificate.Details.encode({
    serial: INTERMEDIATE_SERIAL,
    issuerSerial: serial,
    key: intermediate.public,
    notBefore: now - 3600,
    notAfter: now + 365 * 24 * 3600,
  }).finish();
  const intermediateCert = { details: intermediateDetails, signature: sign(root.private, intermediateDetails) };

  return {
    root,
    serial,
    certChainFor(serverStaticPublicKey) {
      const leafDetails = proto.CertChain.NoiseCertificate.Details.encode({
        serial: INTERMEDIATE_SERIAL + 1,
        issuerSerial: INTERMEDIATE_SERIAL,
        key: serverStaticPublicKey,
        notBefore: now - 3600,
        notAfter: now + 365 * 24 * 3600,
      }).finish();
      return proto.CertChain.encode({
        leaf: { details: leafDetails, signature: sign(intermediate.private, leafDetails) },
        intermediate: intermediateCert,
      }).finish();
    },
  };
}

let trusted = null; // { saved, root, serial, holders }

/**
 * Makes the Baileys loaded in this process trust `authority` instead of WhatsApp's root, until every
 * holder called the returned function (servers sharing the process root may overlap).
 * @returns a function giving the trust back; the last one restores WhatsApp's root
 */
export function trustTestRoot(authority) {
  const root = Buffer.from(authority.root.public);
  if (trusted && !(trusted.root.equals(root) && trusted.serial === authority.serial)) {
    throw new Error('another fake WhatsApp server with a different root is trusted in this process; stop it first');
  }
  trusted ??= { saved: { PUBLIC_KEY: WA_CERT_DETAILS.PUBLIC_KEY, SERIAL: WA_CERT_DETAILS.SERIAL }, root, serial: authority.serial, holders: 0 };
  trusted.holders++;
  WA_CERT_DETAILS.PUBLIC_KEY = root;
  WA_CERT_DETAILS.SERIAL = authority.serial;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--trusted.holders === 0) {
      Object.assign(WA_CERT_DETAILS, trusted.saved);
      trusted = null;
    }
  };
}
