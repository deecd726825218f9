// The server's answers to the IQs Baileys sends after login: pings, pre-key upload and count, key bundles,
// usync (contact, devices, lid, status), props, privacy, media_conn, app-state sync (empty), w:mex queries, profile
// pictures (profiles.js) and groups (groups.js).
// An IQ without an answer here gets a 501 and is kept in `wa.unhandled`.

import { decodeBigEndian } from './crypto.js';
import { SERVER_JID } from './directory.js';
import { answerGroupIq } from './groups.js';
import { answerLinkCode } from './linking.js';
import { answerPictureIq, statusNode } from './profiles.js';
import { bytes, child, childBytes, children, newId, nowSeconds, sendIqError, sendIqResult } from './nodes.js';

/** Answers an IQ of the client; unknown ones get a 501. */
export async function answerIq(wa, connection, iq) {
  const [first] = children(iq);
  const key = `${iq.attrs.xmlns}:${first?.tag ?? ''}`;
  const device = connection.device;
  if (iq.attrs.xmlns === 'w:g2') return answerGroupIq(wa, connection, iq);
  switch (key) {
    case 'w:p:ping':
    case 'passive:active':
    case 'passive:passive':
    case 'w:stats:add':
    case 'encrypt:rotate':
    case 'urn:xmpp:ping:ping':
      return sendIqResult(connection, iq);
    case 'encrypt:count':
      return sendIqResult(connection, iq, [{ tag: 'count', attrs: { value: String(device?.preKeys.size ?? 0) } }]);
    case 'encrypt:registration': {
      if (device) {
        const list = child(iq, 'list');
        const skey = child(iq, 'skey');
        wa.directory.storePreKeys(device, {
          registrationId: decodeBigEndian(childBytes(iq, 'registration')),
          identityKey: childBytes(iq, 'identity'),
          signedPreKey: skey && {
            keyId: decodeBigEndian(childBytes(skey, 'id')),
            publicKey: childBytes(skey, 'value'),
            signature: childBytes(skey, 'signature'),
          },
          preKeys: children(list, 'key').map((key) => ({ keyId: decodeBigEndian(childBytes(key, 'id')), publicKey: childBytes(key, 'value') })),
        });
      }
      return sendIqResult(connection, iq);
    }
    case 'encrypt:digest':
      return sendIqResult(connection, iq, [{ tag: 'digest', attrs: {} }]);
    case 'encrypt:key':
      return sendIqResult(connection, iq, [{ tag: 'list', attrs: {}, content: children(first, 'user').map((user) => keyBundle(wa, user.attrs.jid)) }]);
    case 'usync:usync':
      return sendIqResult(connection, iq, [usync(wa, first)]);
    case 'abt:props':
      return sendIqResult(connection, iq, [
        {
          tag: 'props',
          attrs: { protocol: '1', hash: 'fake' },
          content: Object.entries(wa.props).map(([name, value]) => ({ tag: 'prop', attrs: { name, value } })),
        },
      ]);
    case 'blocklist:':
      return sendIqResult(connection, iq, [{ tag: 'list', attrs: {} }]);
    case 'privacy:privacy':
      if (iq.attrs.type === 'get') {
        const settings = { readreceipts: 'all', last: 'all', online: 'all', profile: 'all', status: 'all', groupadd: 'all', calladd: 'all' };
        return sendIqResult(connection, iq, [
          { tag: 'privacy', attrs: {}, content: Object.entries(settings).map(([name, value]) => ({ tag: 'category', attrs: { name, value } })) },
        ]);
      }
      return sendIqResult(connection, iq);
    case 'privacy:tokens':
      return sendIqResult(connection, iq, [{ tag: 'tokens', attrs: {} }]);
    case 'w:m:media_conn':
      return sendIqResult(connection, iq, [
        {
          tag: 'media_conn',
          attrs: { auth: 'fake-media-auth', ttl: '300' },
          // Without a media host, a name that cannot resolve: uploads fail fast instead of leaving loopback.
          content: [{ tag: 'host', attrs: { hostname: wa.media?.host ?? 'media.fake-wa.invalid' } }],
        },
      ]);
    case 'w:sync:app:state:sync':
      // Empty collections at version 0: there is no app state to restore.
      return sendIqResult(connection, iq, [
        {
          tag: 'sync',
          attrs: {},
          content: children(first, 'collection').map((collection) => ({
            tag: 'collection',
            attrs: { name: collection.attrs.name, version: collection.attrs.version ?? '0' },
          })),
        },
      ]);
    case 'w:mex:query': {
      const data = wa.mexAnswers.get(first.attrs.query_id);
      if (!data) break;
      return sendIqResult(connection, iq, [{ tag: 'result', attrs: {}, content: Buffer.from(JSON.stringify({ data })) }]);
    }
    case 'w:profile:picture:picture':
      return answerPictureIq(wa, connection, iq);
    case 'md:link_code_companion_reg':
      return answerLinkCode(wa, connection, iq, first);
    case 'md:remove-companion-device':
      wa.directory.removeDevice(first.attrs.jid ?? device?.jid ?? '');
      return sendIqResult(connection, iq);
    default:
      break;
  }
  wa.unhandled.push(iq);
  wa.emit('unhandled-iq', iq);
  sendIqError(connection, iq, 501, 'feature-not-implemented');
}

/** One `<user>` of an `encrypt` key fetch: a contact's or the phone's bundle, or a companion's. */
function keyBundle(wa, jid) {
  const party = wa.directory.partyFor(jid);
  if (party) return party.keyBundleNode(jid);
  const companion = wa.directory.deviceFor(jid);
  if (companion) return wa.directory.companionBundleNode(companion, jid);
  return { tag: 'user', attrs: { jid }, content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }] };
}

/** Answers the `contact`, `devices` and `lid` protocols of a usync query; others get nothing. */
function usync(wa, usync) {
  const query = child(usync, 'query');
  const protocols = new Set(children(query).map((protocol) => protocol.tag));
  const users = children(child(usync, 'list'), 'user').map((user) => {
    const phoneQuery = bytes(child(user, 'contact'))?.toString();
    const jid = user.attrs.jid ?? `${(phoneQuery ?? '').replace(/^\+/, '')}@${SERVER_JID}`;
    const isAccount = wa.directory.isAccountUser(jid);
    const contact = isAccount ? null : wa.directory.contact(jid);
    const content = [];
    if (protocols.has('contact')) content.push({ tag: 'contact', attrs: { type: isAccount || contact ? 'in' : 'out' } });
    if (protocols.has('devices')) {
      const deviceList = [];
      if (isAccount) {
        deviceList.push({ tag: 'device', attrs: { id: '0' } });
        for (const record of wa.directory.devices.values()) {
          if (record.confirmed) deviceList.push({ tag: 'device', attrs: { id: String(record.device), 'key-index': String(record.keyIndex) } });
        }
      } else if (contact) {
        deviceList.push({ tag: 'device', attrs: { id: '0' } });
      }
      content.push({
        tag: 'devices',
        attrs: {},
        content: [
          { tag: 'device-list', attrs: {}, content: deviceList },
          ...(deviceList.length ? [{ tag: 'key-index-list', attrs: { ts: String(nowSeconds()) } }] : []),
        ],
      });
    }
    if (protocols.has('status')) content.push(statusNode(contact));
    if (protocols.has('lid')) {
      const lid = isAccount ? wa.account.lidJid : contact?.lidJid;
      if (lid) content.push({ tag: 'lid', attrs: { val: lid } });
    }
    // A phone query is answered with the JID WhatsApp knows the number by.
    return { tag: 'user', attrs: { jid: isAccount ? wa.account.jid : (contact?.jid ?? jid) }, content };
  });
  return {
    tag: 'usync',
    attrs: { sid: usync.attrs.sid ?? newId(), index: '0', last: 'true', mode: usync.attrs.mode ?? 'query', context: usync.attrs.context ?? 'interactive' },
    content: [
      { tag: 'result', attrs: {}, content: [...protocols].map((tag) => ({ tag, attrs: { refresh: '604800' } })) },
      { tag: 'list', attrs: {}, content: users },
    ],
  };
}
