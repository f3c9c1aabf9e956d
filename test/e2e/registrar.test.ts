/**
 * The registrar end to end (issue 3 acceptance): the real `npm start` (tsx src/main.ts with its
 * engine child) on free loopback ports and a temp data directory, driven by SIPp scenarios
 * (test/e2e/sipp/) and, where SIPp cannot go (SHA-256, a fixed port across a restart, answering
 * OPTIONS), a small UDP client. Sources: 127.0.0.1 is the attacker of the ban case, 127.0.0.2 and
 * 127.0.0.3 are other hosts (the whole 127/8 is loopback on Linux).
 *
 * Extensions are created through `POST /api/v1/extensions` with the bootstrap key (the first start
 * seeds the demo tenant on the SIP address 127.0.0.1) and bindings are read back through
 * `GET /api/v1/registrations`. The server offers MD5 first (SWITCHBOARD_SIP_DIGEST_ALGORITHMS)
 * because SIPp 3.6 answers only the first challenge; the SHA-256 challenge is still offered and
 * used by the UDP client.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SipUdpClient } from './support/sip-udp-client.js';
import { runSipp, userLine } from './support/sipp.js';
import { killRun, launch, loopbackStart, stopRun, type Run } from './support/switchboard-run.js';

const DOMAIN = '127.0.0.1';
const bootstrapKey = `sk_live_${randomBytes(24).toString('hex')}`;
const passwords: Record<string, string> = {};

/** The fields of `GET /api/v1/registrations` items the test looks at. */
interface Row {
  contact_uri: string;
  source_address: string;
  source_port: number;
  transport: string;
  user_agent: string | null;
  extension_number: string;
  qualify: { reachable: boolean } | null;
}

describe('registrar end to end (npm start + SIPp)', () => {
  let dataDir: string;
  let sipPort: number;
  let httpPort: number;
  let env: NodeJS.ProcessEnv;
  const runs: Run[] = [];
  const clients: SipUdpClient[] = [];
  const server = (): { host: string; port: number } => ({ host: '127.0.0.1', port: sipPort });
  const target = (): string => `127.0.0.1:${sipPort}`;
  const client = async (address: string, port = 0): Promise<SipUdpClient> => {
    const c = await SipUdpClient.open(address, server(), port);
    clients.push(c);
    return c;
  };
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { ...init, headers: { 'X-API-Key': bootstrapKey, 'Content-Type': 'application/json', ...init.headers } });
  /** The live bindings as the API lists them. */
  const bindings = async (): Promise<Row[]> => {
    const res = await api('/registrations?limit=100');
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Row[] }).data;
  };
  const binding = async (number: string): Promise<Row | undefined> => (await bindings()).find((b) => b.extension_number === number);
  /** A new extension through the API; its SIP password is in the 201 only. */
  const createExtension = async (number: string): Promise<void> => {
    const res = await api('/extensions', { method: 'POST', body: JSON.stringify({ number, display_name: `E2E ${number}` }) });
    expect(res.status, await res.clone().text()).toBe(201);
    passwords[number] = ((await res.json()) as { data: { sip_password: string } }).data.sip_password;
  };
  const start = async (): Promise<Run> => {
    const run = launch(env);
    runs.push(run);
    await run.waitForLog((l) => l.msg === 'switchboard ready', 60_000);
    return run;
  };

  beforeAll(async () => {
    ({ dataDir, sipPort, httpPort, env } = await loopbackStart('reg', bootstrapKey, {
      SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
      SWITCHBOARD_SIP_QUALIFY_SECONDS: '2',
    }));
    await start();
    for (const number of ['2001', '2002', '2003', '2004']) await createExtension(number);
  }, 90_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const r of runs) killRun(r);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIPp registers with MD5: 401, then 200; the binding is listed by the API with its source address and port', async () => {
    const res = await runSipp({ scenario: 'register-digest.xml', target: target(), calls: 1, users: [userLine('2001', passwords['2001']!)] });
    expect(res.code, res.output).toBe(0);
    expect(res.successful).toBe(1);
    const row = await binding('2001');
    expect(row).toMatchObject({ source_address: '127.0.0.1', transport: 'udp', user_agent: 'sipp-e2e' });
    expect(row?.contact_uri).toBe(`sip:2001@127.0.0.1:${row?.source_port}`);
  }, 40_000);

  it('registers with SHA-256 (RFC 8760): both challenges are offered, the SHA-256 answer gets 200', async () => {
    const phone = await client('127.0.0.2');
    const { challenge, final } = await phone.register({ user: '2002', password: passwords['2002']!, domain: DOMAIN, algorithm: 'SHA-256' });
    expect(challenge?.status).toBe(401);
    expect(challenge?.challenges.map((c) => /algorithm=([\w-]+)/.exec(c)?.[1]).sort()).toEqual(['MD5', 'SHA-256']);
    expect(final?.status).toBe(200);
    expect(final?.text).toContain(`Contact: <${phone.contact}>;expires=`);
    expect(await binding('2002')).toMatchObject({ source_address: '127.0.0.2', source_port: phone.port, user_agent: 'e2e-udp-client' });
  });

  it('never answers 200 to a wrong password', async () => {
    const res = await runSipp({ scenario: 'register-wrong-password.xml', target: target(), localAddress: '127.0.0.3', calls: 3, users: [userLine('2003', 'not-the-password')] });
    expect(res.code, res.output).toBe(0);
    expect(res.successful).toBe(3);
    expect(await binding('2003')).toBeUndefined();
  }, 40_000);

  it('keeps bindings across a restart (SIGTERM, same data dir): still stored, and reached over their flow', async () => {
    const phone = clients.find((c) => c.address === '127.0.0.2')!;
    expect(await stopRun(runs.at(-1)!)).toBe(0);
    const before = phone.requests.length;
    await start();
    expect(await binding('2002')).toMatchObject({ source_port: phone.port });
    // Reloaded into the location service: the next qualify round (2 s) reaches the phone.
    const deadline = Date.now() + 10_000;
    while (phone.requests.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const options = phone.requests.slice(before).find((r) => r.method === 'OPTIONS');
    expect(options?.uri).toBe(phone.contact);
    // …and the API shows the qualify result the registrar hands it.
    await new Promise((r) => setTimeout(r, 300));
    expect((await binding('2002'))?.qualify).toMatchObject({ reachable: true });
  }, 90_000);

  it('unregisters with Expires: 0', async () => {
    const phone = clients.find((c) => c.address === '127.0.0.2')!;
    const { final } = await phone.register({ user: '2002', password: passwords['2002']!, domain: DOMAIN, expires: 0 });
    expect(final?.status).toBe(200);
    expect(final?.text).not.toContain(phone.contact);
    expect(await binding('2002')).toBeUndefined();
  });

  it('an extension created through the API registers at once with MD5 and SHA-256', async () => {
    await createExtension('3001');
    const phone = await client('127.0.0.2');
    for (const algorithm of ['MD5', 'SHA-256'] as const) {
      const { challenge, final } = await phone.register({ user: '3001', password: passwords['3001']!, domain: DOMAIN, algorithm });
      expect(challenge?.status).toBe(401);
      expect(final?.status).toBe(200);
    }
    expect(await binding('3001')).toMatchObject({ source_address: '127.0.0.2', source_port: phone.port });
  });

  it('bans 127.0.0.1 after 10 failures in a minute (no answer), while 127.0.0.2 still registers', async () => {
    const res = await runSipp({ scenario: 'register-wrong-password.xml', target: target(), calls: 10, users: [userLine('2004', 'guess')] });
    expect(res.code, res.output).toBe(0);
    const banned = await client('127.0.0.1');
    const silent = await banned.register({ user: '2004', password: passwords['2004']!, domain: DOMAIN, timeoutMs: 1500 });
    expect(silent.challenge).toBeUndefined();
    expect(runs.at(-1)!.lines.some((l) => l.event === 'security.ban' && l.source === '127.0.0.1' && l.failures === 10)).toBe(true);
    const other = await client('127.0.0.2');
    const ok = await other.register({ user: '2004', password: passwords['2004']!, domain: DOMAIN });
    expect(ok.final?.status).toBe(200);
  }, 40_000);
});
