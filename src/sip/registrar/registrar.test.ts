import { pino } from 'pino';
import { systemClock, type Clock } from '../../shared/clock.js';
import { afterEach, describe, expect, it } from 'vitest';
import { harnessPerTest } from '../../../test/support/engine-harness.js';
import { branch, hdr, reply, token, type RawMessage, type RawSipPeer } from '../../../test/support/raw-sip-peer.js';
import { createExtension, createTenant, deleteRegistrationsOfExtension, listRegistrations, type Store } from '../../store/index.js';
import { openTestStore, testSecretKey } from '../../store/test-helpers.js';
import { BanList } from './ban-list.js';
import { computeHa1, computeResponse, type DigestAlgorithm } from './digest.js';
import { registerRegistrar, type BanEvent, type RunningRegistrar } from './registrar.js';
import { RegistrationOutbox } from '../../pbx/events/registration-outbox.js';
import { inTransaction, listOutboxEvents } from '../../store/index.js';
import { appendRegistrationRemovals } from '../../pbx/events/registration-removals.js';

// Wall-clock time that a test can move forward (expiry sweep) without waiting for it.
let offset = 0;
const wallClock: Clock = {
  now: () => Date.now() + offset,
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
  clearTimeout: (handle) => systemClock.clearTimeout(handle),
};
const start = harnessPerTest({});
let store: Store | undefined;
let running: RunningRegistrar | undefined;
afterEach(async () => {
  offset = 0;
  await running?.stop();
  running = undefined;
  await store?.close();
  store = undefined;
});

async function setup(qualifyPing?: () => Promise<boolean>, withEvents = false) {
  const h = await start({});
  store = await openTestStore();
  const tenant = await createTenant(store.db, { name: 'T', sipDomain: 'pbx.test' });
  const { extension, sipPassword } = await createExtension(store.db, testSecretKey(), { tenantId: tenant.id, number: '1001' });
  const banList = new BanList({ clock: wallClock });
  const db = store.db;
  const bans: BanEvent[] = [];
  const expired: string[] = [];
  let started: Promise<RunningRegistrar> | undefined;
  await h.app((srf) => {
    started = registerRegistrar(srf, {
      db, log: pino({ level: 'silent' }), clock: wallClock, nonceSecret: 'a-test-secret-of-32-bytes-length', defaultTenantId: tenant.id, banList,
      onBan: (b) => bans.push(b), onExpired: (list) => expired.push(...list.map((b) => b.contactUri)),
      qualify: { intervalMs: 0, timeoutMs: 1000, maxFailures: 1, ...(qualifyPing ? { ping: qualifyPing } : {}) },
      ...(withEvents && { events: new RegistrationOutbox({ db, clock: wallClock, log: pino({ level: 'silent' }) }) }),
    });
  }, ['register']);
  const registrar = await started!;
  running = registrar;
  return { h, db, tenant, extension, sipPassword, banList, bans, expired, registrar };
}

interface Opts { user?: string; authUser?: string; password?: string; expires?: string; contact?: string; challenge?: RawMessage; algorithm?: DigestAlgorithm }

let cseq = 1;
function register(peer: RawSipPeer, o: Opts): { text: string; callId: string } {
  const user = o.user ?? '1001';
  const callId = `${token(6)}@peer`;
  const uri = `sip:pbx.test`;
  const headers = [
    `REGISTER ${uri} SIP/2.0`, `Via: ${peer.via(branch())}`, 'Max-Forwards: 70',
    `From: <sip:${user}@pbx.test>;tag=${token(4)}`, `To: <sip:${user}@pbx.test>`, `Call-ID: ${callId}`, `CSeq: ${cseq++} REGISTER`,
    `Contact: ${o.contact ?? `<${peer.contactUri(user)}>`}`, `Expires: ${o.expires ?? '600'}`, 'User-Agent: test-phone',
  ];
  if (o.challenge) {
    const alg = o.algorithm ?? 'MD5';
    const ch = o.challenge.headers.filter((x) => x.name === 'www-authenticate').map((x) => x.value).find((v) => v.includes(`algorithm=${alg}`)) ?? '';
    const nonce = /nonce="([^"]+)"/.exec(ch)?.[1] ?? '';
    const realm = /realm="([^"]+)"/.exec(ch)?.[1] ?? '';
    const authUser = o.authUser ?? user;
    const ha1 = computeHa1(alg, authUser, realm, o.password ?? 'wrong');
    const cnonce = token(4);
    const response = computeResponse({ algorithm: alg, ha1, nonce, method: 'REGISTER', uri, qop: 'auth', nc: '00000001', cnonce });
    headers.push(`Authorization: Digest username="${authUser}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${alg}, qop=auth, nc=00000001, cnonce="${cnonce}"`);
  }
  return { text: [...headers, 'Content-Length: 0', '', ''].join('\r\n'), callId };
}

async function exchange(peer: RawSipPeer, o: Opts, ms = 2000): Promise<RawMessage> {
  const { text, callId } = register(peer, o);
  await peer.send(text);
  return peer.waitFor((m) => m.status !== undefined && m.status >= 200 && hdr(m, 'call-id') === callId, ms, 'a final response');
}

/** One header per challenge, whether the engine sent them folded into one line or not. */
const split = (m: RawMessage): RawMessage => ({
  ...m,
  headers: m.headers
    .filter((x) => x.name === 'www-authenticate')
    .flatMap((x) => x.value.split(/,\s*(?=Digest )/))
    .map((value) => ({ name: 'www-authenticate', rawName: 'WWW-Authenticate', value })),
});

/** A fresh challenge, then the request answering it. */
async function authed(peer: RawSipPeer, o: Opts): Promise<RawMessage> {
  const c = await exchange(peer, { user: o.user, expires: o.expires, contact: o.contact });
  return exchange(peer, { ...o, challenge: split(c) });
}

const names = (m: RawMessage) => [...new Set(m.headers.map((x) => x.name))].sort();

describe('registrar', () => {
  it('challenges with SHA-256 then MD5 and accepts both', async () => {
    const { h, db, tenant, sipPassword } = await setup();
    const peer = await h.udpPeer();
    const c1 = await exchange(peer, {});
    expect(c1.status).toBe(401);
    const www = c1.headers.filter((x) => x.name === 'www-authenticate').flatMap((x) => x.value.split(/,\s*(?=Digest )/));
    expect(www.map((v) => /algorithm=([\w-]+)/.exec(v)?.[1])).toEqual(['SHA-256', 'MD5']);
    expect(hdr(c1, 'date')).toBeDefined();
    const fixed = split(c1);
    const ok = await exchange(peer, { challenge: fixed, password: sipPassword, algorithm: 'MD5' });
    expect(ok.status).toBe(200);
    expect(hdr(ok, 'contact')).toContain(`;expires=`);
    const c2 = await exchange(peer, {});
    const fixed2 = split(c2);
    expect((await exchange(peer, { challenge: fixed2, password: sipPassword, algorithm: 'SHA-256' })).status).toBe(200);
    const regs = await listRegistrations(db, tenant.id);
    expect(regs.items).toHaveLength(1);
    expect(regs.items[0]).toMatchObject({ sourceAddress: '127.0.0.1', sourcePort: peer.port, transport: 'udp', userAgent: 'test-phone' });
  });

  it('never accepts a wrong password; unknown users look the same', async () => {
    const { h } = await setup();
    const peer = await h.udpPeer();
    const wrong = await authed(peer, { password: 'nope' });
    expect(wrong.status).toBe(401);
    const unknown = await authed(peer, { user: '9999', password: 'nope' });
    expect(unknown.status).toBe(401);
    expect(names(unknown)).toEqual(names(wrong));
  });

  it('refuses credentials of another user for the AOR with 403', async () => {
    const { h, sipPassword } = await setup();
    const peer = await h.udpPeer();
    expect((await authed(peer, { authUser: '1002', password: sipPassword })).status).toBe(403);
  });

  it('answers 423 with Min-Expires to a too brief expiry, and Expires 0 unregisters', async () => {
    const { h, db, tenant, sipPassword } = await setup();
    const peer = await h.udpPeer();
    const brief = await authed(peer, { password: sipPassword, expires: '10' });
    expect(brief.status).toBe(423);
    expect(hdr(brief, 'min-expires')).toBe('60');
    expect((await authed(peer, { password: sipPassword })).status).toBe(200);
    expect((await listRegistrations(db, tenant.id)).total).toBe(1);
    expect((await authed(peer, { password: sipPassword, expires: '0' })).status).toBe(200);
    expect((await listRegistrations(db, tenant.id)).total).toBe(0);
  });

  it('writes registration.created for a new binding (not for a refresh) and registration.expired when it is unregistered or expires', async () => {
    const { h, db, sipPassword, registrar, extension } = await setup(undefined, true);
    const peer = await h.udpPeer();
    const outbox = async () => (await listOutboxEvents(db)).map((e) => { const d = JSON.parse(e.body).data; return [e.type, d.reason ?? d.current_status ?? d.extension]; });
    expect((await authed(peer, { password: sipPassword })).status).toBe(200);
    expect((await authed(peer, { password: sipPassword, expires: '900' })).status).toBe(200); // a refresh
    expect(await outbox()).toEqual([['registration.created', '1001'], ['extension.status', 'registered']]);
    const [created] = await listOutboxEvents(db);
    expect(JSON.parse(created!.body).data).toMatchObject({ extension_id: extension.id, contact: peer.contactUri('1001'), source_ip: '127.0.0.1', user_agent: 'test-phone' });
    expect((await authed(peer, { password: sipPassword, expires: '0' })).status).toBe(200);
    expect((await authed(peer, { password: sipPassword, expires: '60' })).status).toBe(200);
    offset = 61_000;
    await registrar.sweep();
    expect(await outbox()).toEqual([
      ['registration.created', '1001'], ['extension.status', 'registered'], ['registration.expired', 'unregistered'], ['extension.status', 'unregistered'],
      ['registration.created', '1001'], ['extension.status', 'registered'], ['registration.expired', 'expired'], ['extension.status', 'unregistered'],
    ]);
  });

  it('a binding the API removed (with its events) is forgotten without a second event, even past its expiry', async () => {
    const { h, db, sipPassword, registrar, extension } = await setup(undefined, true);
    const peer = await h.udpPeer();
    expect((await authed(peer, { password: sipPassword, expires: '60' })).status).toBe(200);
    const now = new Date(wallClock.now()).toISOString();
    await inTransaction(db, async (trx) => {
      const removed = await deleteRegistrationsOfExtension(trx, extension.id);
      await appendRegistrationRemovals(trx, removed, { clock: wallClock, log: pino({ level: 'silent' }), now });
    });
    offset = 61_000;
    await registrar.sweep();
    expect(registrar.location.size).toBe(0);
    const types = (await listOutboxEvents(db)).map((e) => { const d = JSON.parse(e.body).data; return [e.type, d.reason ?? d.current_status ?? d.extension]; });
    expect(types).toEqual([['registration.created', '1001'], ['extension.status', 'registered'], ['registration.expired', 'removed'], ['extension.status', 'unregistered']]);
  });

  it('extension.status: registered while any binding lives, with the connection of the binding that changed', async () => {
    const { h, db, sipPassword, extension } = await setup(undefined, true);
    const [deskPhone, softphone] = [await h.udpPeer(), await h.udpPeer()];
    const statuses = async () => (await listOutboxEvents(db)).filter((e) => e.type === 'extension.status').map((e) => JSON.parse(e.body).data);
    expect((await authed(deskPhone, { password: sipPassword })).status).toBe(200);
    expect((await authed(softphone, { password: sipPassword })).status).toBe(200);
    expect((await authed(deskPhone, { password: sipPassword, expires: '0' })).status).toBe(200);
    expect((await authed(softphone, { password: sipPassword, expires: '0' })).status).toBe(200);
    const base = { extension_id: extension.id, extension: '1001', connection_type: 'sip', transport: 'udp', registration_ip: '127.0.0.1' };
    expect(await statuses()).toEqual([
      { ...base, previous_status: 'unregistered', current_status: 'registered', registration_port: deskPhone.port, registered_contacts: 1 },
      { ...base, previous_status: 'registered', current_status: 'registered', registration_port: softphone.port, registered_contacts: 2 },
      { ...base, previous_status: 'registered', current_status: 'registered', registration_port: deskPhone.port, registered_contacts: 1 },
      { ...base, previous_status: 'registered', current_status: 'unregistered', registration_port: softphone.port, registered_contacts: 0 },
    ]);
  });

  // Every test peer is 127.0.0.1, so "another source" is shown by lifting the ban of this one.
  it('bans a source after 10 failures (no answer at all) until the ban is lifted', async () => {
    const { h, db, tenant, sipPassword, banList, bans } = await setup();
    const attacker = await h.udpPeer();
    // The first REGISTER of each attempt has no credentials: only the 10 wrong answers count.
    for (let i = 0; i < 10; i++) expect((await authed(attacker, { password: 'nope' })).status).toBe(401);
    await expect(exchange(attacker, {}, 300)).rejects.toThrow(/timed out/);
    expect(banList.isBanned('127.0.0.1')).toBe(true);
    expect(bans).toEqual([{ source: '127.0.0.1', failures: 10, until: banList.bannedUntil('127.0.0.1') }]);
    banList.unban('127.0.0.1');
    const phone = await h.udpPeer();
    expect((await authed(phone, { password: sipPassword })).status).toBe(200);
    expect((await listRegistrations(db, tenant.id)).items[0]?.sourcePort).toBe(phone.port);
  });

  it('answers 500 to an out-of-order CSeq on the same Call-ID (RFC 3261 §10.3 step 7)', async () => {
    const { h, sipPassword } = await setup();
    const peer = await h.udpPeer();
    const c = split(await exchange(peer, {}));
    const fixedCallId = (o: Opts, seq: number, ch: RawMessage) => {
      const { text } = register(peer, { ...o, challenge: ch });
      return text.replace(/Call-ID: [^\r]+/, 'Call-ID: fixed@peer').replace(/CSeq: \d+/, `CSeq: ${seq}`);
    };
    await peer.send(fixedCallId({ password: sipPassword }, 50, c));
    const fixed = (m: RawMessage) => hdr(m, 'call-id') === 'fixed@peer' && m.status !== undefined && m.status >= 200;
    expect((await peer.waitFor(fixed, 2000)).status).toBe(200);
    const c2 = split(await exchange(peer, {}));
    await peer.send(fixedCallId({ password: sipPassword }, 49, c2));
    expect((await peer.waitFor((m) => fixed(m) && m.status !== 200, 2000)).status).toBe(500);
  });

  it('qualifies a binding with OPTIONS sent to the flow it registered from, and reports the result', async () => {
    const { h, sipPassword, registrar } = await setup();
    const peer = await h.udpPeer();
    // A Contact the engine cannot reach (a private address behind NAT): the source flow must be used.
    expect((await authed(peer, { password: sipPassword, contact: '<sip:1001@192.0.2.99:5999>' })).status).toBe(200);
    peer.autoAnswer((m) => (m.method === 'OPTIONS' ? reply(m, 200, 'OK') : undefined));
    await registrar.qualifyNow();
    const options = await peer.waitForRequest('OPTIONS');
    expect(options.uri).toBe('sip:1001@192.0.2.99:5999');
    const [binding] = [...registrar.location.values()];
    expect(registrar.qualifyStatus(binding!.id)).toMatchObject({ reachable: true });
  });

  it('sweeps expired bindings from memory and the store, reporting them', async () => {
    const { h, db, tenant, sipPassword, registrar, expired } = await setup();
    const peer = await h.udpPeer();
    expect((await authed(peer, { password: sipPassword, expires: '60' })).status).toBe(200);
    await registrar.sweep();
    expect(expired).toEqual([]);
    offset = 61_000;
    await registrar.sweep();
    expect(expired).toEqual([peer.contactUri('1001')]);
    expect(registrar.location.size).toBe(0);
    expect((await listRegistrations(db, tenant.id, { now: null })).total).toBe(0);
  });

  it('keeps a TCP binding on its connection and an RFC 5626 instance, and qualifies over that connection', async () => {
    const { h, db, tenant, sipPassword, registrar } = await setup();
    const peer = await h.tcpPeer();
    const contact = `<sip:1001@192.0.2.50:5060;transport=tcp>;+sip.instance="<urn:uuid:00000000-0000-0000-0000-000000000001>";reg-id=1`;
    expect((await authed(peer, { password: sipPassword, contact })).status).toBe(200);
    const [row] = (await listRegistrations(db, tenant.id)).items;
    expect(row).toMatchObject({
      transport: 'tcp', sourcePort: peer.port, connectionId: `tcp/127.0.0.1:${peer.port}`,
      instanceId: 'urn:uuid:00000000-0000-0000-0000-000000000001;reg-id=1',
    });
    peer.autoAnswer((m) => (m.method === 'OPTIONS' ? reply(m, 200, 'OK') : undefined));
    await registrar.qualifyNow();
    expect((await peer.waitForRequest('OPTIONS')).uri).toBe('sip:1001@192.0.2.50:5060;transport=tcp');
    expect(registrar.qualifyStatus(row!.id)).toMatchObject({ reachable: true });
  });

  it('forgets bindings the API removed, and stores the phone again on its next refresh', async () => {
    const { h, db, tenant, extension, sipPassword, registrar } = await setup();
    const peer = await h.udpPeer();
    expect((await authed(peer, { password: sipPassword })).status).toBe(200);
    await deleteRegistrationsOfExtension(db, extension.id);
    // The refresh changes nothing but the expiry, which alone would not be written again.
    expect((await authed(peer, { password: sipPassword })).status).toBe(200);
    expect((await listRegistrations(db, tenant.id)).total).toBe(1);
    await deleteRegistrationsOfExtension(db, extension.id);
    await registrar.sweep();
    expect(registrar.location.size).toBe(0);
  });

  it('answers 500 and keeps nothing in memory when the binding cannot be stored', async () => {
    const { h, db, sipPassword, registrar } = await setup();
    const peer = await h.udpPeer();
    // Deleted behind the cache's back (no change counter bump): the write hits the foreign key.
    await db.deleteFrom('extensions').execute();
    expect((await authed(peer, { password: sipPassword })).status).toBe(500);
    expect(registrar.location.size).toBe(0);
  });

  it('drops a binding that fails qualify maxFailures times', async () => {
    const { h, db, tenant, sipPassword, registrar } = await setup(async () => false);
    const peer = await h.udpPeer();
    expect((await authed(peer, { password: sipPassword })).status).toBe(200);
    await registrar.qualifyNow();
    await until(() => registrar.location.size === 0);
    await until(async () => (await listRegistrations(db, tenant.id)).total === 0);
  });
});

async function until(cond: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}
