// @ts-check
// Which kind of address a JID is, as far as the session needs to tell.

import { jidNormalizedUser } from 'baileys';

/**
 * Status broadcasts and newsletters (channels).
 * @param {unknown} jid
 */
export function isIgnoredChat(jid) {
  return typeof jid === 'string' && (jid === 'status@broadcast' || jid.endsWith('@newsletter'));
}

/** @param {string} jid */
export function isLidJid(jid) {
  return jid.endsWith('@lid') || jid.endsWith('@hosted.lid');
}

/** @param {string} jid */
export function isPnJid(jid) {
  return jid.endsWith('@s.whatsapp.net') || jid.endsWith('@hosted');
}

/** @param {string} jid */
export function normalizeJid(jid) {
  try {
    return jidNormalizedUser(jid) || jid;
  } catch {
    return jid;
  }
}
