/**
 * At-least-once webhook delivery across a crash (issue 5 acceptance): the real `npm start`, a
 * webhook to a loopback receiver that is down (nothing listens on its port), a SIPp call to an
 * extension that is not registered (call.start, then call.ended with 480), `kill -9` of the PBX
 * while the deliveries are still failing, the receiver brought up, and a restart on the same data
 * directory: both events arrive, with the ids the outbox held before the crash (read over `/ws`;
 * the delivery log showed the first one failing under its id), in order and signed. No media is needed (the call never reaches a phone), so media is direct.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runSipp, userLine } from './support/sipp.js';
import { freePort, killRun, launch, loopbackStart, type Run } from './support/switchboard-run.js';

const bootstrapKey = `sk_live_${randomBytes(24).toString('hex')}`;
const SECRET = `e2e-${randomBytes(12).toString('hex')}`;

interface Hit { headers: IncomingHttpHeaders; body: string }
interface Delivery { event_id: string; event_type: string; status: string; attempts: number }

describe('webhook delivery survives kill -9 (npm start + SIPp)', () => {
  let dataDir: string;
  let sipPort: number;
  let httpPort: number;
  let env: NodeJS.ProcessEnv;
  let run: Run | undefined;
  let receiver: Server | undefined;
  const hits: Hit[] = [];
  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`http://127.0.0.1:${httpPort}/api/v1${path}`, { ...init, headers: { 'X-API-Key': bootstrapKey, 'Content-Type': 'application/json', ...init.headers } });
  /** The ids of the first event of each type, replayed from the start of the outbox over `/ws`. */
  const outboxIds = (types: string[]): Promise<Record<string, string>> =>
    new Promise((resolve, reject) => {
      const found: Record<string, string> = {};
      const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/ws?since=0`, { headers: { 'X-API-Key': bootstrapKey } });
      const timer = setTimeout(() => (ws.terminate(), reject(new Error(`no ${types.join(', ')} on /ws within 10 s`))), 10_000);
      ws.on('error', reject);
      ws.on('message', (raw) => {
        const m = JSON.parse(String(raw)) as { type: string; event?: { id: string; type: string } };
        if (m.type !== 'event' || !m.event || !types.includes(m.event.type)) return;
        found[m.event.type] ??= m.event.id;
        if (types.every((t) => found[t] !== undefined)) {
          clearTimeout(timer);
          ws.close();
          resolve(found);
        }
      });
    });

  beforeAll(async () => {
    ({ dataDir, sipPort, httpPort, env } = await loopbackStart('webhook-crash', bootstrapKey, {
      SWITCHBOARD_WEBHOOK_ALLOWLIST: '127.0.0.0/8',
      SWITCHBOARD_MEDIA: 'direct',
      SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'MD5,SHA-256',
      SWITCHBOARD_SIP_QUALIFY_SECONDS: '0',
    }));
  });
  afterAll(() => {
    killRun(run);
    receiver?.closeAllConnections();
    receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers the call’s events after a restart, with the same ids', async () => {
    run = launch(env);
    await run.waitForLog((l) => l.msg === 'switchboard ready', 60_000);
    const passwords: Record<string, string> = {};
    for (const number of ['3001', '3003']) {
      const res = await api('/extensions', { method: 'POST', body: JSON.stringify({ number, display_name: `ext ${number}` }) });
      expect(res.status, await res.clone().text()).toBe(201);
      passwords[number] = ((await res.json()) as { data: { sip_password: string } }).data.sip_password;
    }
    // The receiver's port, with nothing listening yet: every attempt is refused.
    const receiverPort = await freePort();
    const created = await api('/webhooks', { method: 'POST', body: JSON.stringify({ name: 'crm', url: `http://127.0.0.1:${receiverPort}/hook`, events: ['call.*'], secret: SECRET, retry_count: 10 }) });
    expect(created.status, await created.clone().text()).toBe(201);
    const webhookId = ((await created.json()) as { data: { id: string } }).data.id;

    const a = await runSipp({ scenario: 'uac-invite-auth-expect-480.xml', target: `127.0.0.1:${sipPort}`, calls: 1, service: '3003', users: [userLine('3001', passwords['3001']!)] });
    expect(a.code, a.output).toBe(0);

    // The call's events as the outbox holds them (the /ws stream replays it from the start).
    const ids = await outboxIds(['call.start', 'call.ended']);
    // Both are owed and the first has been tried (and failed) at least once: crash now. (call.ended
    // waits behind it, past the endpoint's cursor: it has no delivery row until it is attempted.)
    const deliveries = async (): Promise<Delivery[]> => ((await (await api(`/webhooks/${webhookId}/deliveries`)).json()) as { data: Delivery[] }).data;
    await expect
      .poll(async () => (await deliveries()).map((d) => [d.event_type, d.event_id, d.status, d.attempts > 0]), { timeout: 10_000 })
      .toEqual([['call.start', ids['call.start'], 'pending', true]]);
    killRun(run); // SIGKILL to the process group (and the engine): no shutdown code runs
    await new Promise<void>((resolve) => (run!.child.exitCode !== null || run!.child.signalCode !== null ? resolve() : run!.child.once('exit', () => resolve())));

    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(receiverPort, '127.0.0.1', resolve));

    run = launch(env);
    await run.waitForLog((l) => l.msg === 'switchboard ready', 60_000);
    await expect.poll(() => hits.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    const got = hits.map((h) => JSON.parse(h.body) as { id: string; type: string; data: { disposition?: string; sip_status?: number } });
    // At least once: a duplicate would carry the same id; in order per endpoint.
    const firstOf = (type: string) => got.find((e) => e.type === type);
    expect(firstOf('call.start')?.id).toBe(ids['call.start']);
    expect(firstOf('call.ended')?.id).toBe(ids['call.ended']);
    expect(got.findIndex((e) => e.type === 'call.start')).toBeLessThan(got.findIndex((e) => e.type === 'call.ended'));
    expect(firstOf('call.ended')?.data).toMatchObject({ disposition: 'no_answer', sip_status: 480 });
    for (const h of hits) {
      expect(h.headers['x-webhook-signature']).toBe(createHmac('sha256', SECRET).update(h.body).digest('hex'));
      expect(h.headers['webhook-id']).toBe(JSON.parse(h.body).id);
    }
    await expect.poll(async () => (await deliveries()).map((d) => d.status), { timeout: 5000 }).toEqual(['delivered', 'delivered']);
  }, 150_000);
});
