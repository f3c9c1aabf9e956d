import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiKey, createCall } from '../../store/index.js';
import { connect, produce, startStreamServer } from './stream-test-helpers.js';

let t: Awaited<ReturnType<typeof startStreamServer>>;
beforeEach(async () => {
  t = await startStreamServer();
});
afterEach(async () => t.close());

const seqs = (c: ReturnType<typeof connect>) => c.events().map((f) => f.sequence);

describe('/ws auth', () => {
  it('refuses a missing or bad key with 401 and a key without voip:read with 403, at the upgrade', async () => {
    await expect(connect(t.url()).opened).rejects.toThrow('HTTP 401');
    await expect(connect(t.url('?api_key=sk_live_nope')).opened).rejects.toThrow('HTTP 401');
    await expect(connect(t.url(), { headers: { 'X-API-Key': 'garbage' } }).opened).rejects.toThrow('HTTP 401');
    const writeOnly = (await createApiKey(t.store.db, { tenantId: t.tenantId, name: 'w', scopes: ['calls:write'] })).key;
    await expect(connect(t.url(`?api_key=${writeOnly}`)).opened).rejects.toThrow('HTTP 403');
  });

  it('accepts the key in the X-API-Key header or ?api_key=', async () => {
    const a = connect(t.url(), { headers: { 'X-API-Key': t.key } });
    const b = connect(t.url(`?api_key=${t.key}`));
    await Promise.all([a.opened, b.opened]);
    a.ws.close();
    b.ws.close();
  });
});

describe('/ws tenancy', () => {
  it('a key of another tenant sees none of this tenant’s events', async () => {
    const mine = connect(t.url(`?api_key=${t.key}`));
    const theirs = connect(t.url(`?api_key=${t.otherKey}`));
    await Promise.all([mine.opened, theirs.opened]);
    await mine.subscribed();
    await theirs.subscribed();
    await produce(t.store, t.stream, t.tenantId, 5);
    const [own] = await produce(t.store, t.stream, t.otherTenantId, 1, 'o');
    await mine.until(() => mine.events().length === 5);
    await theirs.until(() => theirs.events().length === 1);
    expect(theirs.events().map((f) => f.sequence)).toEqual([own]);
    // Replay too: resuming from 0 shows the other tenant only its own event.
    const replay = connect(t.url(`?api_key=${t.otherKey}&since=0`));
    await replay.until(() => replay.events().length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(replay.events().every((f) => typeof f.event === 'object' && f.event.tenant_id === t.otherTenantId)).toBe(true);
    for (const c of [mine, theirs, replay]) c.ws.close();
  });
});

describe('/ws resume', () => {
  it('reconnecting with the last sequence replays the gap, then live events: no loss, no duplicates', async () => {
    const first = connect(t.url(`?api_key=${t.key}`));
    await first.opened;
    await first.subscribed();
    const a = await produce(t.store, t.stream, t.tenantId, 10, 'a');
    await first.until(() => first.events().length === 10);
    const last = first.events().at(-1)!.sequence!;
    first.ws.close();
    await first.closed;
    const gap = await produce(t.store, t.stream, t.tenantId, 700, 'g'); // more than one replay page
    const second = connect(t.url(`?api_key=${t.key}&since=${last}`));
    await second.opened;
    // Live events while (and after) the replay runs.
    const live = await produce(t.store, t.stream, t.tenantId, 20, 'l');
    await second.until(() => second.events().length === 720);
    await new Promise((r) => setTimeout(r, 50));
    expect(seqs(first)).toEqual(a);
    expect(seqs(second)).toEqual([...gap, ...live]);
    second.ws.close();
  });

  it('resumes from the last event id as well as from a sequence, and says when the id is unknown', async () => {
    const s = await produce(t.store, t.stream, t.tenantId, 3);
    const c = connect(t.url(`?api_key=${t.key}&since=${s[0]}`));
    await c.until(() => c.events().length === 2);
    const firstId = (c.events()[0]!.event as { id: string }).id;
    const byId = connect(t.url(`?api_key=${t.key}`));
    await byId.opened;
    byId.ws.send(JSON.stringify({ type: 'subscribe', since: firstId }));
    await byId.until(() => byId.events().length === 1);
    expect(seqs(byId)).toEqual([s[2]]);
    byId.ws.send(JSON.stringify({ type: 'subscribe', since: '3b241101-e2bb-4255-8caf-4136c566a962' }));
    await byId.until(() => byId.frames.some((f) => f.type === 'error' && f.code === 'CURSOR_NOT_FOUND'));
    c.ws.close();
    byId.ws.close();
  });
});

describe('/ws filters and messages', () => {
  it('subscribe narrows by type pattern; unsubscribe stops; bad frames get an error and the socket stays open', async () => {
    const c = connect(t.url(`?api_key=${t.key}&events=registration.*`));
    await c.opened;
    await c.subscribed();
    await produce(t.store, t.stream, t.tenantId, 2);
    c.ws.send('{not json');
    c.ws.send(JSON.stringify({ type: 'dance' }));
    c.ws.send(JSON.stringify({ type: 'subscribe', events: ['cal.*'] }));
    await c.until(() => c.frames.filter((f) => f.type === 'error').length === 3);
    expect(c.events()).toHaveLength(0);
    c.ws.send(JSON.stringify({ type: 'subscribe', events: ['call.*'] }));
    await c.until(() => c.frames.filter((f) => f.type === 'subscribed').length === 2);
    await produce(t.store, t.stream, t.tenantId, 2);
    await c.until(() => c.events().length === 2);
    c.ws.send(JSON.stringify({ type: 'unsubscribe' }));
    await c.until(() => c.frames.some((f) => f.type === 'unsubscribed'));
    await produce(t.store, t.stream, t.tenantId, 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.events()).toHaveLength(2);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });

  it('refuses a bad filter in the URL with 400, and closes on a frame over maxPayload (1009)', async () => {
    await expect(connect(t.url(`?api_key=${t.key}&events=nope`)).opened).rejects.toThrow('HTTP 400');
    const c = connect(t.url(`?api_key=${t.key}`));
    await c.opened;
    c.ws.send('x'.repeat(64 * 1024));
    expect((await c.closed).code).toBe(1009);
  });

  it('names=crm sends the CRM bridge’s names (call.ring, call.started, call.ended) and shape', async () => {
    const c = connect(t.url(`?api_key=${t.key}&names=crm`));
    await c.subscribed();
    const [seq] = await produce(t.store, t.stream, t.tenantId, 1);
    await c.until(() => c.frames.some((f) => (f as { event?: unknown }).event === 'call.ring'));
    const ring = c.frames.find((f) => (f as { event?: unknown }).event === 'call.ring')!;
    expect(ring).toMatchObject({ event: 'call.ring', call_id: 'c0', status: 'ringing', sequence: seq });
    c.ws.close();
  });

  it('names=crm gives the numbers of a call that began while nobody listened (from the calls table)', async () => {
    // The call starts with no client connected, so the stream reads nothing and never sees its call.start.
    await createCall(t.store.db, { id: 'c0', tenantId: t.tenantId, direction: 'inbound', callerNumber: '+15550100', calleeNumber: '1001', instanceId: 'inst-1', startedAt: new Date().toISOString() });
    t.stream.wake();
    const c = connect(t.url(`?api_key=${t.key}&names=crm`));
    await c.subscribed();
    await produce(t.store, t.stream, t.tenantId, 1);
    await c.until(() => c.frames.some((f) => f.event === 'call.ring'));
    expect(c.frames.find((f) => f.event === 'call.ring')).toMatchObject({ call_id: 'c0', direction: 'inbound', from_number: '+15550100', to_number: '1001' });
    c.ws.close();
  });
});
