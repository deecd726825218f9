// A stand-in for baileys-bridge in tests: speaks PROTOCOL.md over stdio without WhatsApp.
// Sessions pair when a test scripts it; creds and a pre-key live in the host's auth store (load_creds/save_creds,
// set_keys/get_keys), so a restarted bridge (or a new host) proves the round trip by connecting again without a scan.
// Behaviour: `open` loads creds; unregistered creds show a QR, registered ones connect when their pre-key comes back intact.
// `script` requests run steps: qr, pair, open, message, receipt, lid_mapping, event (any event by name), close, exit, auth,
// exists (is a file there), fail_opens (the next opens close at once with the given reason). `big` answers a result of `bytes` characters (line-limit tests).
// Environment: FAKE_BRIDGE_NO_READY=1 never says ready; FAKE_BRIDGE_EXIT_ON_START=<code> exits at once;
// FAKE_BRIDGE_PROTOCOL=<n> reports another protocol version in ready.
// Media travels as files in the data folder (WAPBRIDGE_BRIDGE_DATA_DIR), as with the real bridge: scripted media given
// as base64 is written to bridge-media/<sha256> first, and sends read media.path.
import { createInterface } from 'node:readline';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

if (process.env.FAKE_BRIDGE_EXIT_ON_START) process.exit(Number(process.env.FAKE_BRIDGE_EXIT_ON_START));

const sessions = new Map();
// Send path: numbers WhatsApp knows (phone → JID; null = every number is registered under its phone JID), the
// check_number calls seen, and the refusals scripted for the next sends ({statusCode, message, restriction?}).
let registered = null;
const numberChecks = [];
const sendFailures = [];
let failingChecks = 0;
// Close reasons for the next opens ({statusCode, name, error, data}): a server that cannot reach WhatsApp.
const openFailures = [];
const pendingAuth = new Map();
let nextAuth = 0;

/** Scripted media as the bridge announces it: base64 becomes a file named by its hash; anything else is passed on as is. */
function mediaFile(media) {
  if (!media || typeof media.base64 !== 'string') return media;
  const bytes = Buffer.from(media.base64, 'base64');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const folder = join(process.env.WAPBRIDGE_BRIDGE_DATA_DIR, 'bridge-media');
  mkdirSync(folder, { recursive: true });
  const path = join(folder, sha256);
  writeFileSync(path, bytes);
  return { path, sha256, size: bytes.length, mimetype: media.mimetype, fileName: media.fileName };
}

const write = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
const log = (level, msg, session) => process.stderr.write(JSON.stringify({ level, msg, session }) + '\n');
const event = (session, name, data) => write({ type: 'event', session, event: name, data });

function auth(session, op, params = {}) {
  const id = 'a' + ++nextAuth;
  return new Promise((resolve, reject) => {
    pendingAuth.set(id, { resolve, reject });
    write({ type: 'auth', id, session, op, params });
  });
}

async function open(session, params) {
  const state = { params, creds: null };
  sessions.set(session, state);
  event(session, 'connection', { state: 'connecting' });
  if (openFailures.length > 0) {
    event(session, 'connection', { state: 'close', reason: openFailures.shift() });
    return;
  }
  const stored = (await auth(session, 'load_creds')).creds;
  if (stored == null) {
    state.creds = { noiseKey: randomBytes(8).toString('hex'), registered: false, preKey: 'pk-' + randomBytes(6).toString('hex') };
    await auth(session, 'save_creds', { creds: JSON.stringify(state.creds) });
    await auth(session, 'set_keys', { data: { 'pre-key': { '1': state.creds.preKey, '2': null } } });
    event(session, 'qr', { qr: '2@fake,' + randomBytes(6).toString('hex') });
    return;
  }
  state.creds = JSON.parse(stored);
  if (!state.creds.registered) {
    event(session, 'qr', { qr: '2@fake,' + randomBytes(6).toString('hex') });
    return;
  }
  const { values } = await auth(session, 'get_keys', { category: 'pre-key', ids: ['1', '2'] });
  if (values['1'] !== state.creds.preKey || values['2'] != null) {
    event(session, 'connection', { state: 'close', reason: { statusCode: 500, name: 'badSession', error: 'pre-key lost: ' + JSON.stringify(values) } });
    return;
  }
  event(session, 'connection', { state: 'open', me: state.creds.me, waVersion: params.waVersion ?? null, browser: params.browser ?? null });
}

async function step(session, s) {
  const state = sessions.get(session);
  switch (s.do) {
    case 'qr': event(session, 'qr', { qr: s.qr ?? '2@fake,' + randomBytes(6).toString('hex') }); break;
    case 'pair': {
      state.creds = { ...state.creds, registered: true, me: { id: `${s.phone}:7@s.whatsapp.net`, lid: s.lid, name: s.name } };
      await auth(session, 'save_creds', { creds: JSON.stringify(state.creds) });
      event(session, 'connection', { state: 'open', me: state.creds.me });
      break;
    }
    case 'open': event(session, 'connection', { state: 'open', me: { id: `${s.phone}:3@s.whatsapp.net`, name: s.name } }); break;
    case 'message': event(session, 'message', { upsertType: s.upsertType ?? 'notify', raw: s.raw, media: mediaFile(s.media), mediaError: s.mediaError }); break;
    case 'receipt': event(session, 'receipt', { id: s.id, remoteJid: s.remoteJid, fromMe: s.fromMe ?? true, status: s.status }); break;
    case 'lid_mapping': event(session, 'lid_mapping', { lid: s.lid, pn: s.pn }); break;
    case 'event': event(session, s.name, s.data?.media ? { ...s.data, media: mediaFile(s.data.media) } : s.data ?? {}); break;
    case 'exists': return { exists: existsSync(s.path) };
    case 'close': event(session, 'connection', { state: 'close', reason: { statusCode: s.statusCode, name: s.name, error: s.error, data: s.data } }); break;
    case 'exit': setTimeout(() => process.exit(s.code ?? 1), 10); break;
    case 'auth': return auth(session, s.op, s.params ?? {});
    case 'sleep': await new Promise((r) => setTimeout(r, s.ms ?? 100)); break;
    case 'registered': registered = s.numbers ?? null; break;
    case 'fail_checks': failingChecks = s.count ?? 1; break;
    case 'fail_opens': for (let i = 0; i < (s.count ?? 1); i++) openFailures.push(s.reason); break;
    case 'fail_sends': for (let i = 0; i < (s.count ?? 1); i++) sendFailures.push(s.error); break;
    default: throw new Error('unknown step ' + s.do);
  }
  return null;
}

/** What a send's media was: read from its path while the send runs (the host may delete a temporary copy afterwards). */
function sentMedia(media) {
  const bytes = readFileSync(media.path);
  return {
    kind: media.kind, mimetype: media.mimetype, fileName: media.fileName, path: media.path, bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'), base64: 'base64' in media,
  };
}

async function handle(req) {
  const p = req.params ?? {};
  switch (req.method) {
    case 'ping': return {};
    case 'open': await open(p.session, p); return {};
    case 'close': sessions.delete(p.session); return {};
    case 'pairing_code': return { code: 'FAKE1234' };
    case 'presence': return {};
    case 'send': {
      if (!sessions.has(p.session)) throw Object.assign(new Error('no such session'), { code: 'unknown_session' });
      const sent = (sessions.get(p.session).sent ??= []);
      const refusal = sendFailures.shift();
      if (refusal) {
        sent.push({ to: p.to, messageId: p.messageId, refused: refusal.statusCode });
        throw Object.assign(new Error(refusal.message ?? 'refused'), { code: refusal.code ?? 'send_failed', details: refusal });
      }
      sent.push({ to: p.to, messageId: p.messageId, text: p.text, media: p.media ? sentMedia(p.media) : undefined, caption: p.caption });
      setTimeout(() => {
        event(p.session, 'receipt', { id: p.messageId, remoteJid: p.to, fromMe: true, status: 2 });
        event(p.session, 'receipt', { id: p.messageId, remoteJid: p.to, fromMe: true, status: 3 });
      }, 20);
      return { messageId: p.messageId, timestamp: Math.floor(Date.now() / 1000) };
    }
    case 'check_number': {
      numberChecks.push(p.phone);
      if (failingChecks > 0 && failingChecks--) throw Object.assign(new Error('usync timed out'), { code: 'send_failed', details: { statusCode: 408 } });
      if (registered === null) return { exists: true, jid: `${p.phone}@s.whatsapp.net` };
      return registered[p.phone] ? { exists: true, jid: registered[p.phone] } : { exists: false };
    }
    case 'number_checks': return { phones: numberChecks };
    case 'big': return { blob: 'x'.repeat(p.bytes ?? 0) };
    case 'opened': return { params: sessions.get(p.session)?.params ?? null };
    case 'sent': return { sent: sessions.get(p.session)?.sent ?? [] };
    case 'logout': {
      await auth(p.session, 'clear');
      sessions.delete(p.session);
      event(p.session, 'connection', { state: 'close', reason: { statusCode: 401, name: 'loggedOut', error: 'Intentional Logout' } });
      return {};
    }
    case 'script': {
      const results = [];
      for (const s of p.steps ?? []) results.push(await step(p.session, s));
      return { results };
    }
    default: throw Object.assign(new Error('unknown method ' + req.method), { code: 'unknown_method' });
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  const msg = JSON.parse(line);
  if (msg.type === 'auth_result') {
    const waiter = pendingAuth.get(msg.id);
    pendingAuth.delete(msg.id);
    if (!waiter) return;
    if (msg.ok) waiter.resolve(msg.result ?? {});
    else waiter.reject(Object.assign(new Error(msg.error?.message ?? 'auth failed'), { code: 'auth' }));
    return;
  }
  if (msg.type !== 'request') return;
  handle(msg).then(
    (result) => write({ type: 'response', id: msg.id, ok: true, result }),
    (err) => write({ type: 'response', id: msg.id, ok: false, error: { ...err.details, code: err.code ?? 'internal', message: err.message } }),
  );
});
rl.on('close', () => { log('info', 'stdin closed; exiting'); process.exit(0); });

log('info', 'fake bridge starting');
if (process.env.FAKE_BRIDGE_NO_READY !== '1')
  write({ type: 'ready', protocol: Number(process.env.FAKE_BRIDGE_PROTOCOL ?? 2), bridgeVersion: 'fake', baileysVersion: 'none', maxSessions: Number(process.env.WAPBRIDGE_BRIDGE_MAX_SESSIONS ?? 50) });
