// WhatsApp's media servers on loopback: Baileys uploads encrypted media over HTTPS (it always builds
// `https://<media_conn host>/mms/<type>/…` URLs), so the host serves TLS with a throwaway self-signed
// certificate made by the openssl CLI; the client trusts it through `fetchAgent: wa.media.agent` (in-process)
// or NODE_EXTRA_CA_CERTS (child processes, see FakeWa#childEnv). Media the server sends is served over plain
// HTTP from a `url` without `directPath`, which Baileys downloads as is.

import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hkdf } from './crypto.js';

const HKDF_INFO = {
  image: 'Image',
  sticker: 'Image',
  video: 'Video',
  gif: 'Video',
  ptv: 'Video',
  audio: 'Audio',
  ptt: 'Audio',
  document: 'Document',
};

/** The message field of each media kind, and the media type its keys are derived for. */
export const MEDIA_FIELDS = {
  imageMessage: 'image',
  stickerMessage: 'sticker',
  videoMessage: 'video',
  ptvMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
};

function mediaKeys(mediaKey, type) {
  const info = HKDF_INFO[type];
  if (!info) throw new Error(`unknown media type ${type}`);
  const expanded = hkdf(mediaKey, 112, { info: `WhatsApp ${info} Keys` });
  return { iv: expanded.subarray(0, 16), cipherKey: expanded.subarray(16, 48), macKey: expanded.subarray(48, 80) };
}

/** Encrypts media as a WhatsApp client does: AES-256-CBC, then the first 10 bytes of an HMAC over iv‖ciphertext. */
export function encryptMedia(bytes, type) {
  const mediaKey = randomBytes(32);
  const { iv, cipherKey, macKey } = mediaKeys(mediaKey, type);
  const cipher = createCipheriv('aes-256-cbc', cipherKey, iv);
  const encrypted = Buffer.concat([cipher.update(bytes), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(iv).update(encrypted).digest().subarray(0, 10);
  const file = Buffer.concat([encrypted, mac]);
  return {
    mediaKey,
    file,
    fileSha256: createHash('sha256').update(bytes).digest(),
    fileEncSha256: createHash('sha256').update(file).digest(),
    fileLength: bytes.length,
  };
}

/** Checks the MAC and decrypts an uploaded media file. */
export function decryptMedia(file, mediaKey, type) {
  const { iv, cipherKey, macKey } = mediaKeys(Buffer.from(mediaKey), type);
  const encrypted = file.subarray(0, file.length - 10);
  const mac = file.subarray(file.length - 10);
  const expected = createHmac('sha256', macKey).update(iv).update(encrypted).digest().subarray(0, 10);
  if (!timingSafeEqual(mac, expected)) throw new Error('media MAC mismatch');
  const decipher = createDecipheriv('aes-256-cbc', cipherKey, iv);
  return Buffer.concat([decipher.update(encrypted), decipher.final()]);
}

let certificate;

/** A self-signed certificate for 127.0.0.1, made once per process. */
function loopbackCertificate() {
  if (certificate) return certificate;
  const dir = mkdtempSync(join(tmpdir(), 'fake-wa-media-'));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '2',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    certificate = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch (error) {
    throw new Error(`fake WhatsApp media host needs the openssl CLI to make its loopback certificate: ${error.message}`, { cause: error });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return certificate;
}

export class MediaHost {
  /** @param {{keepUploads?: boolean}} [options] keepUploads=false keeps only sizes and hashes (for big benches) */
  constructor({ keepUploads = true } = {}) {
    this.keepUploads = keepUploads;
    this.files = new Map(); // direct path → Buffer
    this.uploads = []; // { path, directPath, size, sha256 }
    this.failUploads = 0;
  }

  async start() {
    const { key, cert } = loopbackCertificate();
    this.ca = cert;
    this.caFile = join(mkdtempSync(join(tmpdir(), 'fake-wa-ca-')), 'ca.pem');
    await import('node:fs/promises').then((fs) => fs.writeFile(this.caFile, cert));
    this.agent = new https.Agent({ ca: cert, keepAlive: false });
    const handler = (req, res) => this.#handle(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(JSON.stringify({ error: error.message }));
    });
    this.https = https.createServer({ key, cert }, handler);
    this.http = http.createServer(handler);
    this.https.listen(0, '127.0.0.1');
    this.http.listen(0, '127.0.0.1');
    await Promise.all([once(this.https, 'listening'), once(this.http, 'listening')]);
    /** What `media_conn` names as upload host. */
    this.host = `127.0.0.1:${this.https.address().port}`;
    this.httpBase = `http://127.0.0.1:${this.http.address().port}`;
    return this;
  }

  async stop() {
    this.agent.destroy();
    this.https.closeAllConnections?.();
    this.http.closeAllConnections?.();
    await Promise.all([new Promise((resolve) => this.https.close(resolve)), new Promise((resolve) => this.http.close(resolve))]);
    rmSync(this.caFile, { force: true });
  }

  /** Stores an encrypted file under a new direct path. */
  put(file) {
    const directPath = `/v/t62.7114-24/fake-${randomBytes(8).toString('hex')}.enc`;
    this.files.set(directPath, file);
    return { directPath, url: `${this.httpBase}${directPath}` };
  }

  get(directPathOrUrl) {
    const path = directPathOrUrl.startsWith('http') ? new URL(directPathOrUrl).pathname : directPathOrUrl.split('?')[0];
    return this.files.get(path);
  }

  async #handle(req, res) {
    const url = new URL(req.url, 'https://127.0.0.1');
    if (req.method === 'POST' && url.pathname.startsWith('/mms/')) {
      const hash = createHash('sha256');
      const chunks = [];
      let size = 0;
      for await (const chunk of req) {
        hash.update(chunk);
        size += chunk.length;
        if (this.keepUploads) chunks.push(chunk);
      }
      if (this.failUploads > 0) {
        this.failUploads--;
        res.statusCode = 500;
        res.end(JSON.stringify({ error: 'upload refused by the fake media host' }));
        return;
      }
      const sha256 = hash.digest();
      const { directPath } = this.keepUploads ? this.put(Buffer.concat(chunks)) : { directPath: `/v/t62.7114-24/discarded-${randomBytes(8).toString('hex')}.enc` };
      this.uploads.push({ path: url.pathname, directPath, size, sha256 });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: `https://${this.host}${directPath}`, direct_path: directPath }));
      return;
    }
    if (req.method === 'GET') {
      const file = this.files.get(url.pathname);
      if (!file) {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-length', file.length);
      res.end(file);
      return;
    }
    res.statusCode = 405;
    res.end();
  }
}
