// What WhatsApp tells about a contact besides being registered: its about text (usync `status` protocol) and its
// profile picture link (`w:profile:picture`). A contact registered with `about` / `picture: true` has them; the
// others answer as for a contact who hides them (no status text, picture 404).

import { sendIqError, sendIqResult } from './nodes.js';

/** The `<status>` of one usync user: the about text and when it was set, or an empty status. */
export function statusNode(contact) {
  if (!contact?.about) return { tag: 'status', attrs: {} };
  return { tag: 'status', attrs: { t: String(contact.aboutSetAt ?? 1764288000) }, content: Buffer.from(contact.about) };
}

/** The picture link WhatsApp would answer: a CDN URL under an `.invalid` name, so nothing can fetch it. */
export function pictureUrl(contact) {
  return `https://pps.fake-wa.invalid/v/t61/${contact.phone}.jpg?type=image`;
}

export function answerPictureIq(wa, connection, iq) {
  const contact = wa.directory.contact(iq.attrs.target ?? '');
  if (!contact?.picture) return sendIqError(connection, iq, 404, 'item-not-found');
  return sendIqResult(connection, iq, [{ tag: 'picture', attrs: { id: '1', type: 'image', url: pictureUrl(contact) } }]);
}
