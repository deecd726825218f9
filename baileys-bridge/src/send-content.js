// @ts-check
// What a `send` request becomes for Baileys' sendMessage.

import { BridgeError } from './protocol.js';
import { withoutUndefined } from './util.js';

const MEDIA_KINDS = new Set(['image', 'video', 'audio', 'voice', 'document', 'sticker', 'gif']);

/**
 * Builds the Baileys AnyMessageContent for a `send` request. Media is passed as `{ url: <local path> }`: Baileys
 * streams the file through its encryption into a temp file and uploads that, so no file is ever one Buffer here.
 * @param {import('./sessions.js').RequestParams} params the `send` request's params
 * @param {import('./media.js').MediaFolder | null} mediaFolder
 * @param {{ path: string, jpegThumbnail?: Buffer } | undefined} [gifVideo] the GIF transcoded to MP4, when it could be
 * @returns {import('baileys').AnyMessageContent}
 */
export function buildMessageContent(params, mediaFolder, gifVideo = undefined) {
  const { text, caption } = params;
  /** @type {{ kind: string, path: unknown, mimetype?: string, fileName?: string } | undefined} the host's JSON, checked below */
  const media = params.media;
  if (media) {
    if (!MEDIA_KINDS.has(media.kind)) throw new BridgeError('invalid_params', `unknown media kind ${media.kind}`);
    if (!mediaFolder) throw new BridgeError('invalid_params', 'the bridge has no data folder (WAPBRIDGE_BRIDGE_DATA_DIR) to read media from');
    const bytes = { url: mediaFolder.checkOutbound(media.path) };
    const mimetype = media.mimetype || undefined;
    const mediaCaption = caption ?? text ?? undefined;
    switch (media.kind) {
      case 'image':
        return withoutUndefined({ image: bytes, caption: mediaCaption, mimetype });
      case 'video':
        return withoutUndefined({ video: bytes, caption: mediaCaption, mimetype });
      case 'audio':
        return withoutUndefined({ audio: bytes, mimetype });
      case 'voice':
        return withoutUndefined({ audio: bytes, mimetype: mimetype ?? 'audio/ogg; codecs=opus', ptt: true });
      case 'document':
        return withoutUndefined({
          document: bytes,
          mimetype: mimetype ?? 'application/octet-stream',
          fileName: media.fileName,
          caption: mediaCaption,
        });
      case 'sticker':
        return withoutUndefined({ sticker: bytes, mimetype });
      case 'gif':
        if (gifVideo) {
          // @ts-expect-error Baileys declares a video's jpegThumbnail a base64 string; it ends in a proto bytes field, which takes a Buffer as well.
          return withoutUndefined({
            video: { url: gifVideo.path },
            mimetype: 'video/mp4',
            gifPlayback: true,
            caption: mediaCaption,
            jpegThumbnail: gifVideo.jpegThumbnail,
          });
        }
        return withoutUndefined({ document: bytes, mimetype: mimetype ?? 'image/gif', fileName: media.fileName, caption: mediaCaption });
    }
  }
  if (typeof text === 'string' && text !== '') return { text };
  throw new BridgeError('invalid_params', 'send needs text, media, reaction, location, contacts, poll, edit or delete');
}

