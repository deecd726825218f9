// Runs the fake WhatsApp server (baileys-bridge/test-support/fake-wa-server.js) for a C# test: prints
// {"url","childEnv","preload","account"} once, then answers one JSON command per stdin line with one JSON line on stdout:
// {"do":"scan","qr"} links the device; {"do":"decrypted","id","since"?} waits for a message the contact decrypted
// (its text, or its media `field`, `mimetype`, `gifPlayback`, decrypted `mediaLength` and `mediaBox`, the type of an
// MP4's first box);
// {"do":"retry","from","id"} sends a retry receipt; {"do":"count"} is how many messages were decrypted so far;
// {"do":"fail_sends","code","to"} refuses the next send to `to` with that error ack; {"do":"timelock","until"} sets
// the answer to the reach-out timelock query; {"do":"send","from","message","id"?} sends a proto.Message given as
// JSON (bytes as base64); {"do":"send_media","from","type","field"?,"base64","mimetype","fields"?} sends media;
// {"do":"poll_vote","from","pollId","creator","secret","options"} votes on a poll (the vote encrypted with its secret);
// `decrypted` also answers the whole decrypted proto.Message as JSON (`message`, bytes as base64) and the stanza's attrs;
// {"do":"node","tag","types"?} waits for a node the client sent (a receipt, chatstate, presence) and answers its tag,
// attrs and children; {"do":"call","from","status"?,"video"?,"callId"?,"addressing"?} calls, {"do":"presence","from",
// "type","last"?} and {"do":"chatstate","from","state"} send a contact's presence.
// Groups: {"do":"add_group","subject","participants","accountRole"?,"creator"?} answers the new group's {"jid"};
// {"do":"group_participants","jid","action","phones","author"} is a member change made on `author`'s phone;
// {"do":"lid","phone"} answers a contact's {"lid"} JID.
// {"do":"history_sync","syncType"?,"conversations"} the phone syncs chats (`proto.Conversation`s, RECENT by default).
// argv[2]: the baileys-bridge folder; argv[3]: registered numbers (comma separated); argv[4]: "media" starts the media host.
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const bridgeDir = process.argv[2];
const load = (relative) => import(pathToFileURL(path.join(bridgeDir, relative)).href);
await load('test-support/fake-wa/loopback-guard.js');
await load('test-support/fake-wa/quiet-libsignal.js');
const { startFakeWa, TRUST_TEST_ROOT_PRELOAD } = await load('test-support/fake-wa-server.js');
const { encryptPollVote } = await load('test-support/fake-wa/poll-vote.js');
const { proto } = await import(pathToFileURL(path.join(bridgeDir, 'node_modules', 'baileys', 'lib', 'index.js')).href);

const registered = (process.argv[3] ?? '').split(',').filter(Boolean);
const wa = await startFakeWa({ registered, trustRoot: false, media: process.argv[4] === 'media' });
const write = (message) => process.stdout.write(JSON.stringify(message) + '\n');
write({ url: wa.url, childEnv: wa.childEnv, preload: pathToFileURL(TRUST_TEST_ROOT_PRELOAD).href, account: wa.account.jid });

async function handle(command) {
  switch (command.do) {
    case 'scan':
      await wa.scan(command.qr);
      return {};
    case 'decrypted': {
      const record = await wa.nextDecryptedMessage({ id: command.id, since: command.since ?? 0, timeoutMs: command.timeoutMs ?? 15000 });
      const content = record.message?.deviceSentMessage?.message ?? record.message;
      const field = ['imageMessage', 'stickerMessage', 'videoMessage', 'ptvMessage', 'audioMessage', 'documentMessage'].find((name) => content?.[name]);
      return {
        text: record.text, decryptError: record.decryptError ?? null, encType: record.encType,
        field: field ?? null, mimetype: field ? content[field].mimetype : null, mediaLength: record.media?.length ?? null,
        gifPlayback: field ? content[field].gifPlayback ?? null : null, mediaBox: record.media?.subarray(4, 8).toString('latin1') ?? null,
        message: content ? proto.Message.toObject(proto.Message.fromObject(content), { longs: Number, bytes: String, enums: Number }) : null,
        stanzaAttrs: record.stanza?.attrs ?? null,
      };
    }
    case 'retry':
      wa.sendRetryReceipt(command.from, command.id);
      return {};
    case 'fail_sends':
      wa.failSendsWith(command.code, { to: command.to });
      return {};
    case 'timelock':
      wa.setReachoutTimelock({ isActive: true, enforcementEnds: command.until });
      return {};
    case 'send':
      return { id: (await wa.sendMessage(command.from, proto.Message.fromObject(command.message), command.id ? { id: command.id } : {})).id };
    case 'send_media': {
      const { type, field, base64, mimetype, fields } = command;
      return { id: (await wa.sendMedia(command.from, { type, field, bytes: Buffer.from(base64, 'base64'), mimetype, fields })).id };
    }
    case 'poll_vote': {
      const voterJid = `${command.from}@s.whatsapp.net`;
      const vote = encryptPollVote(command.options, { pollMsgId: command.pollId, pollCreatorJid: command.creator, voterJid, pollEncKey: Buffer.from(command.secret, 'base64') });
      const message = proto.Message.fromObject({
        pollUpdateMessage: { pollCreationMessageKey: { remoteJid: wa.account.jid, fromMe: true, id: command.pollId }, vote, senderTimestampMs: Date.now() },
      });
      return { id: (await wa.sendMessage(command.from, message)).id };
    }
    case 'node': {
      const node = await wa.waitForNode((n) => n.tag === command.tag && (!command.types || command.types.includes(n.attrs?.type ?? '')), { timeoutMs: command.timeoutMs ?? 15000 });
      const children = Array.isArray(node.content) ? node.content.map((c) => ({ tag: c.tag, attrs: c.attrs })) : [];
      return { tag: node.tag, attrs: node.attrs, children };
    }
    case 'call':
      return wa.sendCall({ from: command.from, status: command.status, video: command.video, callId: command.callId, addressing: command.addressing });
    case 'presence':
      wa.sendPresence({ from: command.from, type: command.type, last: command.last });
      return {};
    case 'chatstate':
      wa.sendChatState({ from: command.from, state: command.state });
      return {};
    case 'count':
      return { count: wa.decrypted.length };
    case 'add_group':
      return { jid: wa.addGroup({ subject: command.subject, participants: command.participants, accountRole: command.accountRole, creator: command.creator }).jid };
    case 'group_participants':
      wa.changeGroupParticipants(command.jid, { action: command.action, phones: command.phones, author: command.author });
      return {};
    case 'lid':
      return { lid: wa.directory.contact(command.phone)?.lidJid ?? null };
    case 'history_sync':
      await wa.sendHistorySync({ syncType: command.syncType ?? 'RECENT', conversations: command.conversations ?? [] });
      return {};
    default:
      throw new Error('unknown command ' + command.do);
  }
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  queue = queue.then(() => handle(command).then(
    (result) => write({ ok: true, ...result }),
    (error) => write({ ok: false, error: String(error?.message ?? error) }),
  ));
});
lines.on('close', async () => {
  await wa.stop();
  process.exit(0);
});
