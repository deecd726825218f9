// Which part of a message is downloadable media, and how to download it.

import { downloadMediaMessage, extractMessageContent, getContentType } from 'baileys';
import { toNumber } from './wire.js';

const MEDIA_CONTENT_TYPES = new Set([
  'imageMessage',
  'videoMessage',
  'audioMessage',
  'documentMessage',
  'stickerMessage',
  'ptvMessage',
]);

/** The media node of a message ({ contentType, mimetype, fileName, fileLength }) or null for non-media messages. */
export function findMedia(message) {
  if (!message) return null;
  // extractMessageContent unwraps ephemeral/view-once/document-with-caption wrappers, like downloadMediaMessage does.
  const content = extractMessageContent(message);
  if (!content) return null;
  const contentType = getContentType(content);
  if (!MEDIA_CONTENT_TYPES.has(contentType)) return null;
  const media = content[contentType];
  if (!media || (!media.url && !media.directPath)) return null;
  return {
    contentType,
    mimetype: media.mimetype || undefined,
    fileName: media.fileName || undefined,
    fileLength: toNumber(media.fileLength),
  };
}

/** Default downloader: Baileys' downloadMediaMessage, asking the phone to re-upload expired media. */
export async function downloadWithBaileys(message, socket, logger) {
  return downloadMediaMessage(message, 'buffer', {}, { logger, reuploadRequest: socket.updateMediaMessage });
}
