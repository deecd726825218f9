// @ts-check
// Which part of a message is downloadable media, and how to download it.

import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { downloadMediaMessage, extractMessageContent, getContentType } from 'baileys';
import { BridgeError } from './protocol.js';
import { toNumber } from './wire.js';

/** @type {Set<string>} */
const MEDIA_CONTENT_TYPES = new Set([
  'imageMessage',
  'videoMessage',
  'audioMessage',
  'documentMessage',
  'stickerMessage',
  'ptvMessage',
]);

/** @typedef {'imageMessage' | 'videoMessage' | 'audioMessage' | 'documentMessage' | 'stickerMessage' | 'ptvMessage'} MediaContentType */
/** @typedef {{ contentType: MediaContentType, mimetype?: string, fileName?: string, fileLength?: number }} MediaInfo */

/**
 * The media node of a message or null for non-media messages.
 * @param {import('baileys').proto.IMessage | null | undefined} message
 * @returns {MediaInfo | null}
 */
export function findMedia(message) {
  if (!message) return null;
  // extractMessageContent unwraps ephemeral/view-once/document-with-caption wrappers, like downloadMediaMessage does.
  const content = extractMessageContent(message);
  if (!content) return null;
  const contentType = getContentType(content);
  if (!contentType || !MEDIA_CONTENT_TYPES.has(contentType)) return null;
  const mediaType = /** @type {MediaContentType} */ (contentType);
  /** @type {{ url?: string | null, directPath?: string | null, mimetype?: string | null, fileName?: string | null, fileLength?: unknown } | null | undefined} */
  const media = content[mediaType];
  if (!media || (!media.url && !media.directPath)) return null;
  return {
    contentType: mediaType,
    mimetype: media.mimetype || undefined,
    fileName: media.fileName || undefined,
    fileLength: toNumber(media.fileLength),
  };
}

/**
 * Default downloader: Baileys' downloadMediaMessage as a stream (decrypted while it arrives, never one Buffer),
 * asking the phone to re-upload expired media. Test fakes may answer a Buffer instead.
 * @type {import('./event-translator.js').DownloadMedia}
 */
export async function downloadWithBaileys(message, socket, logger) {
  return downloadMediaMessage(message, 'stream', {}, { logger, reuploadRequest: socket.updateMediaMessage });
}

/** The folder (under the host's data folder) where inbound media is written for the host to adopt. */
export const INBOUND_FOLDER = 'bridge-media';
const PART_SUFFIX = '.part';

/**
 * Media files shared with the host through its data folder. Outbound media is read from a path the host gives
 * (inside the data folder); inbound media is streamed into `<dataDir>/bridge-media/<pid>-<random>.part` while it
 * is hashed, then renamed to its SHA-256, so neither direction ever holds a whole file in memory or in a line.
 */
export class MediaFolder {
  /** @param {string} dataDir */
  constructor(dataDir) {
    this.dataDir = resolve(dataDir);
    this.inbound = join(this.dataDir, INBOUND_FOLDER);
  }

  /**
   * Removes `.part` files of bridges that are gone (a crash mid-download); other bridges of the same host share
   * the folder, so files of live processes stay.
   * @param {import('./logger.js').Logger} logger
   */
  async cleanLeftovers(logger) {
    let names;
    try {
      await mkdir(this.inbound, { recursive: true });
      names = await readdir(this.inbound);
    } catch (error) {
      logger.warn({ err: error, folder: this.inbound }, 'could not prepare the media folder');
      return;
    }
    for (const name of names) {
      if (!name.endsWith(PART_SUFFIX)) continue;
      const pid = Number.parseInt(name, 10);
      if (pid !== process.pid && isAlive(pid)) continue;
      await rm(join(this.inbound, name), { force: true }).catch(() => {});
      logger.info({ file: name }, 'removed a media file left by a stopped bridge');
    }
  }

  /**
   * An outbound media path from the host, refused unless it is an absolute path inside the data folder.
   * @param {unknown} path
   */
  checkOutbound(path) {
    if (typeof path !== 'string' || path === '' || !isAbsolute(path)) {
      throw new BridgeError('invalid_params', 'media.path must be an absolute path');
    }
    const full = resolve(path);
    const rel = relative(this.dataDir, full);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
      throw new BridgeError('invalid_params', `media.path must be inside the data folder ${this.dataDir}`);
    }
    return full;
  }

  /**
   * A fresh file path in the inbound folder for a file the bridge makes itself (a GIF transcoded to MP4): named like
   * a download in progress, so a crash leaves nothing that `cleanLeftovers` of the next bridge does not remove.
   * @param {string} suffix
   */
  async tempPath(suffix) {
    await mkdir(this.inbound, { recursive: true });
    return join(this.inbound, `${process.pid}-${randomBytes(8).toString('hex')}-${suffix}${PART_SUFFIX}`);
  }

  /**
   * Writes a stream (or bytes) to the inbound folder under its SHA-256, refusing more than `maxBytes`.
   * Answers `{ path, sha256, size }`.
   * @param {import('node:stream').Readable | Uint8Array} source
   * @param {number} [maxBytes]
   * @param {AbortSignal} [signal]
   */
  async writeInbound(source, maxBytes = Infinity, signal = undefined) {
    await mkdir(this.inbound, { recursive: true });
    const temp = join(this.inbound, `${process.pid}-${randomBytes(8).toString('hex')}${PART_SUFFIX}`);
    const hash = createHash('sha256');
    let size = 0;
    const input = source instanceof Uint8Array ? Readable.from([source]) : source;
    const counter = new Transform({
      transform(chunk, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(new Error(`media exceeds the limit of ${maxBytes} bytes`));
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(input, counter, createWriteStream(temp, { flags: 'wx' }), { signal });
      const sha256 = hash.digest('hex');
      const path = join(this.inbound, sha256);
      await rename(temp, path);
      return { path, sha256, size };
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw error;
    }
  }
}

/** @param {number} pid */
function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM';
  }
}
