// Who exists on the fake WhatsApp: the account being linked (its phone is a Signal party), the contacts
// registered on WhatsApp (each a Signal party on device 0), and the companion devices linked so far.

import { randomInt } from 'node:crypto';
import { encodeBigEndian } from './crypto.js';
import { SignalParty } from './signal-party.js';

export const SERVER_JID = 's.whatsapp.net';

/** `user[:device]@server` → its parts (device 0 when absent). */
export function parseJid(jid) {
  const at = jid.indexOf('@');
  const userPart = at < 0 ? jid : jid.slice(0, at);
  const server = at < 0 ? SERVER_JID : jid.slice(at + 1);
  const [userAndAgent, device = '0'] = userPart.split(':');
  const [user] = userAndAgent.split('_');
  return { user, server, device: Number(device) };
}

const randomLidUser = () => `${randomInt(10_000_000, 99_999_999)}${randomInt(1_000_000, 9_999_999)}`;

export class Directory {
  /**
   * @param {object} options
   * @param {{phone?: string, lid?: string, pushName?: string}} [options.account]
   * @param {Array<string|{phone: string, lid?: string|false, name?: string, about?: string, picture?: boolean, groupAdd?: string}>} [options.registered]
   */
  constructor({ account = {}, registered = [] } = {}) {
    const phone = account.phone ?? '255700000001';
    this.account = {
      phone,
      jid: `${phone}@${SERVER_JID}`,
      lidUser: account.lid ?? randomLidUser(),
      pushName: account.pushName ?? 'Fake Account',
    };
    this.account.lidJid = `${this.account.lidUser}@lid`;
    // The phone is the account's primary device; its identity key is the account key that signs companions.
    this.account.phoneParty = new SignalParty({ jid: this.account.jid });
    this.contacts = new Map();
    for (const entry of registered) this.addContact(entry);
    this.devices = new Map(); // companion device jid → record (see linkDevice)
    this.nextDeviceId = 11;
  }

  /**
   * Registers a number on the fake WhatsApp; `lid: false` gives it no LID (a phone-number-only contact). `about`: its
   * about text; `picture: true`: it has a profile picture; `groupAdd: 'invite'`: its privacy settings keep others
   * from adding it to groups (WhatsApp answers an add with 403 and an invite).
   */
  addContact(entry) {
    const { phone, lid, name, about, picture = false, groupAdd = 'all' } = typeof entry === 'string' ? { phone: entry } : entry;
    if (!/^\d{6,20}$/.test(phone)) throw new Error(`contact phone must be digits: ${phone}`);
    const lidUser = lid === false ? null : (lid ? parseJid(lid).user : randomLidUser());
    const contact = {
      phone,
      jid: `${phone}@${SERVER_JID}`,
      lidJid: lidUser ? `${lidUser}@lid` : null,
      name: name ?? `Contact ${phone.slice(-4)}`,
      about,
      picture,
      groupAdd,
      party: new SignalParty({ jid: `${phone}@${SERVER_JID}` }),
    };
    this.contacts.set(phone, contact);
    return contact;
  }

  contact(phoneOrJid) {
    const { user, server } = parseJid(phoneOrJid);
    if (server === 'lid') return [...this.contacts.values()].find((contact) => contact.lidJid === `${user}@lid`);
    return this.contacts.get(user);
  }

  isAccountUser(jid) {
    const { user, server } = parseJid(jid);
    return server === 'lid' ? user === this.account.lidUser : user === this.account.phone;
  }

  /**
   * The Signal party that owns a device JID: a contact's phone, the account's phone, or undefined for a
   * companion device (those are real Baileys clients) or an unknown number.
   */
  partyFor(jid) {
    const { device } = parseJid(jid);
    if (device !== 0) return undefined;
    if (this.isAccountUser(jid)) return this.account.phoneParty;
    return this.contact(jid)?.party;
  }

  /** A companion device as linked by pair-success; its keys come from the registration payload. */
  linkDevice({ noiseKey, identityKey, registrationId, signedPreKey, advSecret, platform }) {
    const device = this.nextDeviceId++;
    const record = {
      device,
      jid: `${this.account.phone}:${device}@${SERVER_JID}`,
      lidJid: `${this.account.lidUser}:${device}@lid`,
      noiseKey,
      identityKey,
      registrationId,
      signedPreKey, // { keyId, publicKey, signature }
      preKeys: new Map(), // id → 32-byte public key, as uploaded by the client
      advSecret,
      platform,
      keyIndex: device,
      confirmed: false, // set once the client countersigned the device identity
      everLoggedIn: false,
    };
    this.devices.set(record.jid, record);
    return record;
  }

  deviceFor(jid) {
    const { user, device } = parseJid(jid);
    return [...this.devices.values()].find(
      (record) => record.device === device && (user === this.account.phone || user === this.account.lidUser),
    );
  }

  removeDevice(jid) {
    const record = this.deviceFor(jid);
    if (record) this.devices.delete(record.jid);
    return record;
  }

  /** Stores the pre-keys of an `encrypt` upload IQ. */
  storePreKeys(record, { registrationId, identityKey, preKeys, signedPreKey }) {
    if (registrationId !== undefined) record.registrationId = registrationId;
    if (identityKey) record.identityKey = identityKey;
    if (signedPreKey) record.signedPreKey = signedPreKey;
    for (const { keyId, publicKey } of preKeys) record.preKeys.set(keyId, publicKey);
  }

  /** A companion's key bundle (one one-time pre-key handed out and forgotten, as the server does). */
  takeCompanionBundle(record) {
    const [first] = record.preKeys.entries();
    let preKey;
    if (first) {
      record.preKeys.delete(first[0]);
      preKey = { keyId: first[0], publicKey: first[1] };
    }
    return {
      registrationId: record.registrationId,
      identityKey: record.identityKey,
      signedPreKey: record.signedPreKey,
      preKey,
    };
  }

  companionBundleNode(record, jid) {
    const bundle = this.takeCompanionBundle(record);
    return {
      tag: 'user',
      attrs: { jid },
      content: [
        { tag: 'registration', attrs: {}, content: encodeBigEndian(bundle.registrationId, 4) },
        { tag: 'type', attrs: {}, content: Buffer.from([5]) },
        { tag: 'identity', attrs: {}, content: bundle.identityKey },
        {
          tag: 'skey',
          attrs: {},
          content: [
            { tag: 'id', attrs: {}, content: encodeBigEndian(bundle.signedPreKey.keyId, 3) },
            { tag: 'value', attrs: {}, content: bundle.signedPreKey.publicKey },
            { tag: 'signature', attrs: {}, content: bundle.signedPreKey.signature },
          ],
        },
        ...(bundle.preKey
          ? [
              {
                tag: 'key',
                attrs: {},
                content: [
                  { tag: 'id', attrs: {}, content: encodeBigEndian(bundle.preKey.keyId, 3) },
                  { tag: 'value', attrs: {}, content: bundle.preKey.publicKey },
                ],
              },
            ]
          : []),
      ],
    };
  }
}
