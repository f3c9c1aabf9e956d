/**
 * Webhook delivery end to end in one process (issue 5 acceptance): the call service writes events
 * to the outbox, the dispatcher signs and POSTs them to a loopback receiver, on a fake clock so
 * the backoff and the breaker's pause are checked to the millisecond. Real SQLite, real HTTP.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../../test/support/fake-clock.js';
import { makeEvent, parseEvent } from '../../../events/envelope.js';
import { EventBus } from '../../../events/event-bus.js';
import type { PbxEvents } from '../../../events/pbx-events.js';
import { allowListOf } from '../../../events/webhooks/ip-ranges.js';
import { CallService } from '../../../pbx/calls/call-service.js';
import { CallOutbox } from '../../../pbx/events/call-outbox.js';
import { WebhookDispatcher, type WebhookDispatcherOptions } from '../../../pbx/events/webhook-dispatcher.js';
import { appendOutboxEvents, inTransaction } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

const SECRET = 'a-plain-secret-for-the-dispatch-test';
const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const log = pino({ level: 'silent' });
const allow = allowListOf([{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }]);

interface Hit { at: number; headers: IncomingHttpHeaders; body: string; status: number }
let receiver: Server;
let port: number;
let up = true;
/** Read the request and never answer (a receiver that hangs). */
let hang = false;
let hits: Hit[] = [];
let clock: FakeClock;
let t: Awaited<ReturnType<typeof testApiWithStore>>;
let dispatchers: WebhookDispatcher[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hang) return;
      const status = up ? 200 : 500;
      hits.push({ at: clock.now() - t0, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status).end(up ? 'ok' : 'down');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
});
afterAll(() => {
  receiver.closeAllConnections();
  receiver.close();
});
beforeEach(async () => {
  t = await testApiWithStore();
  clock = new FakeClock(t0);
  t.resources.clock = clock;
  t.resources.webhooks = { allow };
  up = true;
  hang = false;
  hits = [];
});
afterEach(async () => {
  for (const d of dispatchers) await d.stop();
  dispatchers = [];
  await t.close();
});

function dispatcher(over: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  const d = new WebhookDispatcher({ db: t.db, secretKey: t.secretKey, clock, log, policy: { allow }, random: () => 0, ...over });
  t.resources.webhookDispatch = d;
  dispatchers.push(d);
  return d;
}
async function hook(extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.call('POST', '/api/v1/webhooks', { body: { name: 'receiver', url: `http://127.0.0.1:${port}/hook`, events: ['call.*'], secret: SECRET, ...extra } });
  expect(res.status).toBe(201);
  return (await body(res)).data.id as string;
}
function callService(d: WebhookDispatcher): CallService {
  return new CallService({
    db: t.db, bus: new EventBus<PbxEvents>(), clock, instanceId: 'inst-1', log, ringTimeoutMs: 30_000, maxCallsPerExtension: 4,
    outbox: new CallOutbox({ db: t.db, clock, log, onCommitted: () => d.wake() }),
  });
}
/**
 * Step the fake clock, then let every scan and attempt it started finish — and fire what those
 * scheduled for the instant reached (a scan that began mid-step sees the time it began at).
 */
/**
 * With the receiver down, starts the dispatcher and makes a call that fails at once (call.start,
 * then call.ended), and waits until call.start's first attempt has failed.
 */
async function failedCallWhileDown(d: WebhookDispatcher): Promise<void> {
  up = false;
  d.start();
  // The delivery threads are up before the call: an attempt's time is its batch's clock time plus
  // real time elapsed, and a thread starting on a loaded machine could push the first past a second.
  await d.connectionsOpened();
  const calls = callService(d);
  const started = await calls.startCall({ tenantId: t.tenant.id, direction: 'internal', caller: alice, callee: bob });
  await calls.apply(started.callId, { type: 'fail', sipStatus: 404, cause: 'UNALLOCATED_NUMBER' });
  await d.idle();
}
async function advance(d: WebhookDispatcher, ms: number): Promise<void> {
  clock.advance(ms);
  for (;;) {
    await d.idle();
    if (!clock.pendingDueTimes().some((due) => due <= clock.now())) return;
    clock.advance(0);
  }
}
const alice = { number: '1001', name: 'Alice', extensionId: null };
const bob = { number: '1002', name: 'Bob', extensionId: null };
const typeOf = (h: Hit) => JSON.parse(h.body).type as string;

/** The documented algorithms, recomputed independently of signing.ts. */
function verifies(h: Hit): boolean {
  const hex = createHmac('sha256', SECRET).update(h.body).digest('hex');
  const id = h.headers['webhook-id'] as string;
  const ts = h.headers['webhook-timestamp'] as string;
  const std = `v1,${createHmac('sha256', SECRET).update(`${id}.${ts}.${h.body}`).digest('base64')}`;
  return h.headers['x-webhook-signature'] === hex && h.headers['webhook-signature'] === std && JSON.parse(h.body).id === id;
}

describe('webhook dispatch', () => {
  it('delivers a scripted call’s events exactly in order, each signed, valid against its schema', async () => {
    const d = dispatcher();
    // A custom header's value is stored encrypted and redacted in answers, but sent in clear.
    const webhookId = await hook({ headers: { Authorization: 'Bearer dispatch-token' } });
    d.start();
    const calls = callService(d);
    const started = await calls.startCall({ tenantId: t.tenant.id, direction: 'internal', caller: alice, callee: bob });
    if (!started.ok) throw new Error('refused');
    await advance(d, 1000);
    await calls.apply(started.callId, { type: 'ring' });
    await advance(d, 3000);
    await calls.answer(started.callId);
    await advance(d, 10_000);
    await calls.apply(started.callId, { type: 'hangup' });
    await d.idle();
    expect(hits.map(typeOf)).toEqual(['call.start', 'call.ringing', 'call.answered', 'call.ended']);
    for (const h of hits) {
      expect(verifies(h)).toBe(true);
      expect(h.headers['x-webhook-event']).toBe(typeOf(h));
      expect(h.headers['x-tenant-id']).toBe(t.tenant.id);
      expect(h.headers.authorization).toBe('Bearer dispatch-token');
      expect(parseEvent(JSON.parse(h.body)).tenant_id).toBe(t.tenant.id);
    }
    expect(JSON.parse(hits[3]!.body).data).toMatchObject({ call_id: started.callId, disposition: 'answered', billable_seconds: 10 });
    const log = await body(await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries`));
    expect(log.data.map((x: { status: string; attempts: number }) => [x.status, x.attempts])).toEqual(Array(4).fill(['delivered', 1]));
  });

  it('retries a down receiver immediately, then after 2 s and 4 s and 8 s, same id and bytes; later events wait their turn', async () => {
    const d = dispatcher();
    await hook();
    await failedCallWhileDown(d);
    expect(hits.map((h) => h.at)).toEqual([0]);
    await advance(d, 1999);
    expect(hits).toHaveLength(1);
    await advance(d, 1);
    await advance(d, 4000);
    expect(hits.map((h) => h.at)).toEqual([0, 2000, 6000]);
    up = true;
    await advance(d, 8000);
    expect(hits.map((h) => [h.at, typeOf(h), h.status])).toEqual([
      [0, 'call.start', 500], [2000, 'call.start', 500], [6000, 'call.start', 500], [14_000, 'call.start', 200], [14_000, 'call.ended', 200],
    ]);
    const first = hits[0]!;
    for (const h of hits.slice(0, 4)) {
      expect(h.body).toBe(first.body);
      expect(h.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(h.headers['x-request-id']).toBe(first.headers['x-request-id']);
      expect(verifies(h)).toBe(true);
    }
    // A retry is signed afresh, so a receiver's 5-minute replay window never refuses it.
    expect(Number(hits[3]!.headers['webhook-timestamp']) - Number(first.headers['webhook-timestamp'])).toBe(14);
  });

  it('shows what an endpoint is owed and not sent yet (the failed head pending its retry, the event behind it waiting), and keeps it across a disable', async () => {
    const d = dispatcher();
    const webhookId = await hook();
    const backlog = async () => (await body(await t.call('GET', `/api/v1/webhooks/${webhookId}/backlog`))).data;
    expect(await backlog()).toEqual({ pending_deliveries: 0, events_waiting: 0, events_waiting_capped: false });
    await failedCallWhileDown(d);
    // call.start failed its first attempt (a pending retry); call.ended waits behind it, not attempted yet.
    expect(await backlog()).toEqual({ pending_deliveries: 1, events_waiting: 1, events_waiting_capped: false });
    // Disabled, it keeps what it was owed (call.ended joins the pending deliveries); enabled again, they go in order.
    expect((await t.call('PATCH', `/api/v1/webhooks/${webhookId}`, { body: { enabled: false } })).status).toBe(200);
    expect(await backlog()).toEqual({ pending_deliveries: 2, events_waiting: 0, events_waiting_capped: false });
    expect((await t.call('PATCH', `/api/v1/webhooks/${webhookId}`, { body: { enabled: true } })).status).toBe(200);
    expect(await backlog()).toEqual({ pending_deliveries: 2, events_waiting: 0, events_waiting_capped: false });
    up = true;
    await advance(d, 2000);
    expect(hits.map((h) => [typeOf(h), h.status])).toEqual([['call.start', 500], ['call.start', 200], ['call.ended', 200]]);
    expect(await backlog()).toEqual({ pending_deliveries: 0, events_waiting: 0, events_waiting_capped: false });
  });

  it('gives up after the retry count and moves on to the next event', async () => {
    const d = dispatcher();
    const webhookId = await hook({ retry_count: 1 });
    await failedCallWhileDown(d);
    await advance(d, 2000);
    up = true;
    await advance(d, 2000);
    // call.start failed finally at its second attempt; call.ended went next, and its own retry got through.
    expect(hits.map((h) => [h.at, typeOf(h), h.status])).toEqual([[0, 'call.start', 500], [2000, 'call.start', 500], [2000, 'call.ended', 500], [4000, 'call.ended', 200]]);
    const log = await body(await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries?status=failed`));
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ event_type: 'call.start', attempts: 2, last_status_code: 500, next_attempt_at: null, response_excerpt: 'down' });
  });

  it('opens the breaker after 10 consecutive failures (visible in the API), probes after the pause, and recovers', async () => {
    const d = dispatcher({ breaker: { threshold: 10, pauseMs: 60_000 } });
    const webhookId = await hook({ retry_count: 0, events: ['*'] });
    up = false;
    const events = Array.from({ length: 12 }, (_, i) => makeEvent('call.ringing', { tenantId: t.tenant.id, tenantExternalId: null, at: new Date(t0), data: { call_id: `c${i}`, extension_id: null } }));
    await inTransaction(t.db, (trx) => appendOutboxEvents(trx, events));
    d.start();
    await d.idle();
    const breaker = async () => (await body(await t.call('GET', `/api/v1/webhooks/${webhookId}`))).data.circuit_breaker;
    expect(hits).toHaveLength(10);
    expect(await breaker()).toEqual({ state: 'open', consecutive_failures: 10, paused_until: new Date(t0 + 60_000).toISOString() });
    await advance(d, 59_999);
    expect(hits).toHaveLength(10);
    // The pause is over: one probe, which fails → open again for another pause.
    await advance(d, 1);
    expect(hits).toHaveLength(11);
    expect(await breaker()).toEqual({ state: 'open', consecutive_failures: 11, paused_until: new Date(t0 + 120_000).toISOString() });
    up = true;
    await advance(d, 60_000);
    expect(hits.map((h) => h.status)).toEqual([...Array(11).fill(500), 200]);
    expect(hits.map((h) => JSON.parse(h.body).id)).toEqual(events.map((e) => e.id));
    expect(await breaker()).toEqual({ state: 'closed', consecutive_failures: 0, paused_until: null });
  });

  it('resumes from the store after a crash: a new dispatcher sends what the old one left pending', async () => {
    const first = dispatcher();
    await hook();
    up = false;
    first.start();
    const calls = callService(first);
    const started = await calls.startCall({ tenantId: t.tenant.id, direction: 'internal', caller: alice, callee: bob });
    await first.idle();
    expect(hits).toHaveLength(1);
    // "Crash": the first dispatcher never runs again; its memory is gone, the store is not.
    await first.stop();
    const events = Array.from({ length: 1 }, () => makeEvent('call.ringing', { tenantId: t.tenant.id, tenantExternalId: null, data: { call_id: started.callId, extension_id: null } }));
    await inTransaction(t.db, (trx) => appendOutboxEvents(trx, events)); // written while nobody dispatches
    up = true;
    clock.advance(2000);
    const second = dispatcher();
    second.start();
    await second.idle();
    expect(hits.map((h) => [typeOf(h), h.status])).toEqual([['call.start', 500], ['call.start', 200], ['call.ringing', 200]]);
    expect(hits[1]!.headers['webhook-id']).toBe(hits[0]!.headers['webhook-id']);
  });

  it('checks the URL again at delivery: an address no longer allowed is refused, never connected to, and logged as such', async () => {
    // Allowed at creation (the API's policy), not by the dispatcher's: as if the allow-list changed since.
    const d = dispatcher({ policy: {} });
    const webhookId = await hook({ retry_count: 0 });
    d.start();
    await callService(d).startCall({ tenantId: t.tenant.id, direction: 'internal', caller: alice, callee: bob });
    await d.idle();
    expect(hits).toEqual([]);
    const [delivery] = (await body(await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries`))).data;
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1, last_status_code: null });
    expect(delivery.last_error).toMatch(/^refused: /);
  });

  it('stops without waiting out a receiver that hangs (the attempt is made again after a restart)', async () => {
    const d = dispatcher();
    await hook({ timeout_ms: 30_000 });
    hang = true;
    d.start();
    await callService(d).startCall({ tenantId: t.tenant.id, direction: 'internal', caller: alice, callee: bob });
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await d.stop(200);
    expect(performance.now() - started).toBeLessThan(1500);
    // No outcome recorded: the event is still owed to the endpoint (its cursor is before it), so a restart makes the attempt again.
    expect((await body(await t.call('GET', `/api/v1/webhooks/${(await body(await t.call('GET', '/api/v1/webhooks'))).data[0].id}/deliveries`))).data).toEqual([]);
    // Let the hung attempt end (and be recorded) before the store closes.
    receiver.closeAllConnections();
    await d.idle();
  });

  it('redelivers one delivery: the same event id and bytes, a new attempt; a test event cannot be', async () => {
    const d = dispatcher();
    const webhookId = await hook();
    d.start();
    const calls = callService(d);
    await calls.startCall({ tenantId: t.tenant.id, direction: 'internal', caller: alice, callee: bob });
    await d.idle();
    const [delivery] = (await body(await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries`))).data;
    const res = await t.call('POST', `/api/v1/webhooks/${webhookId}/deliveries/${delivery.id}/redeliver`);
    expect(res.status).toBe(202);
    expect((await body(res)).data).toMatchObject({ id: delivery.id, status: 'pending', event_id: delivery.event_id });
    await d.idle();
    expect(hits).toHaveLength(2);
    expect(hits[1]!.body).toBe(hits[0]!.body);
    expect(hits[1]!.headers['webhook-id']).toBe(delivery.event_id);
    const after = (await body(await t.call('GET', `/api/v1/webhooks/${webhookId}/deliveries`))).data[0];
    expect(after).toMatchObject({ status: 'delivered', attempts: 2 });

    const test = (await body(await t.call('POST', `/api/v1/webhooks/${webhookId}/test`))).data;
    const refused = await t.call('POST', `/api/v1/webhooks/${webhookId}/deliveries/${test.id}/redeliver`);
    expect(refused.status).toBe(409);
    expect((await body(refused)).error.code).toBe('WEBHOOK_EVENT_NOT_RETAINED');
    const missing = await t.call('POST', `/api/v1/webhooks/${webhookId}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`);
    expect(missing.status).toBe(404);
  });
});
