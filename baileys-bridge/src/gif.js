// @ts-check
// GIFs as WhatsApp plays them: an MP4 (H.264) video with `gifPlayback`. A GIF sent as an image arrives as a still
// frame, so the bridge transcodes it with the static ffmpeg shipped as an optional dependency
// (@ffmpeg-installer/linux-x64); without one the GIF goes as a document, as before.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A GIF that takes longer than this to transcode is sent as a document (a send must not hang on a huge file). */
export const GIF_CONVERSION_TIMEOUT_MS = 60000;
/** ffmpeg's last words kept for the log when it fails. */
const STDERR_TAIL_CHARS = 2000;
const BUNDLED_PACKAGE = '@ffmpeg-installer/linux-x64/package.json';

/**
 * The ffmpeg binary to transcode with: `WAPBRIDGE_BRIDGE_FFMPEG` when set (a system ffmpeg on other platforms, or a
 * missing path to turn conversion off), else the bundled one; null when there is none that can be executed.
 */
export async function findFfmpeg(env = process.env) {
  const path = env.WAPBRIDGE_BRIDGE_FFMPEG || bundledFfmpeg();
  if (!path) return null;
  try {
    await access(path, constants.X_OK);
    return path;
  } catch {
    return null;
  }
}

function bundledFfmpeg() {
  try {
    return join(dirname(fileURLToPath(import.meta.resolve(BUNDLED_PACKAGE))), 'ffmpeg');
  } catch {
    return null; // the optional dependency is not installed (another platform, or `npm ci --omit=optional`)
  }
}

/** @typedef {{ path: string, jpegThumbnail: Buffer, cleanup: () => Promise<void> }} GifVideo */

/**
 * Transcodes GIFs one at a time, so a burst of GIF sends does not take every core from the sessions. ffmpeg reads
 * the GIF from its path and writes the MP4 to a file, so the bridge never holds either in memory.
 */
export class GifConverter {
  /**
   * @param {object} options
   * @param {string|null} options.ffmpegPath null: no conversion, every GIF goes as a document
   * @param {number} [options.maxBytes] the largest GIF read and MP4 written
   * @param {number} [options.timeoutMs]
   */
  constructor({ ffmpegPath, maxBytes = Infinity, timeoutMs = GIF_CONVERSION_TIMEOUT_MS }) {
    this.ffmpegPath = ffmpegPath;
    this.maxBytes = maxBytes;
    this.timeoutMs = timeoutMs;
    /** @type {Promise<unknown>} */
    this.queue = Promise.resolve();
  }

  /**
   * Writes the MP4 and its thumbnail to files named by `tempPath(suffix)` and answers
   * `{ path, jpegThumbnail, cleanup }`; `cleanup()` removes the files. Baileys would otherwise make the video's
   * thumbnail by running `ffmpeg` from PATH, which is usually not there.
   * @param {string} input the GIF's path
   * @param {(suffix: string) => Promise<string>} tempPath
   * @returns {Promise<GifVideo>}
   */
  convert(input, tempPath) {
    const run = this.queue.then(() => this.#convert(input, tempPath));
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * @param {string} input
   * @param {(suffix: string) => Promise<string>} tempPath
   * @returns {Promise<GifVideo>}
   */
  async #convert(input, tempPath) {
    if (!this.ffmpegPath) throw new Error('no ffmpeg (WAPBRIDGE_BRIDGE_FFMPEG or @ffmpeg-installer/linux-x64)');
    const { size } = await stat(input);
    if (size > this.maxBytes) throw new Error(`the GIF of ${size} bytes exceeds the limit of ${this.maxBytes} bytes`);
    const output = await tempPath('gif-video');
    const thumbnail = await tempPath('gif-thumbnail');
    const cleanup = () => Promise.all([rm(output, { force: true }), rm(thumbnail, { force: true })]).then(() => {});
    try {
      await this.#ffmpeg([
        '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
        '-i', input,
        // WhatsApp's players want H.264 in yuv420p, which needs even dimensions (at least 2); a GIF has no sound.
        '-map', '0:v:0', '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
        '-vf', "scale='max(2,trunc(iw/2)*2)':'max(2,trunc(ih/2)*2)'", '-movflags', '+faststart',
        // -fs stops a runaway output at the cap; a file that reaches it is refused below.
        ...(Number.isFinite(this.maxBytes) ? ['-fs', String(this.maxBytes)] : []),
        '-f', 'mp4', output,
        '-map', '0:v:0', '-frames:v', '1', '-vf', 'scale=32:-2', '-f', 'mjpeg', thumbnail,
      ]);
      const converted = await stat(output);
      if (converted.size === 0) throw new Error('ffmpeg wrote an empty video');
      if (converted.size >= this.maxBytes) throw new Error(`the video exceeds the limit of ${this.maxBytes} bytes`);
      return { path: output, jpegThumbnail: await readFile(thumbnail), cleanup };
    } catch (error) {
      await cleanup().catch(() => {});
      throw error;
    }
  }

  /**
   * @param {string[]} args
   * @returns {Promise<void>}
   */
  #ffmpeg(args) {
    const ffmpegPath = /** @type {string} */ (this.ffmpegPath); // #convert refuses to run without it
    return new Promise((resolve, reject) => {
      const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (/** @type {string} */ text) => {
        stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else if (signal === 'SIGKILL') reject(new Error(`ffmpeg took longer than ${this.timeoutMs} ms`));
        else reject(new Error(`ffmpeg exited with ${code ?? signal}: ${stderr.trim()}`));
      });
    });
  }
}
