import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStore } from '../test-helpers.js';
import { insertRequestLog, listRequestLog, pruneRequestLog, redactLoggedPath, requestLogStats, type RequestLogRecord } from './request-log.repository.js';
import { RequestLogWriter } from './request-log.writer.js';

let store: Store;
beforeEach(async () => {
  store = await openTestStore();
});
afterEach(() => store.close());

const rec = (over: Partial<RequestLogRecord> = {}): RequestLogRecord => ({
  request_id: 'r',
  time: '2030-01-01T00:00:00.000Z',
  method: 'GET',
  path: '/api/v1/extensions',
  route: '/api/v1/extensions',
  status: 200,
  duration_ms: 1,
  tenant_id: 't1',
  ...over,
});

describe('request log repository', () => {
  it('never stores a query string or a key-shaped path segment', async () => {
    expect(redactLoggedPath('/api/v1/x?api_key=sk_live_abc&password=p')).toBe('/api/v1/x');
    expect(redactLoggedPath('/p/sk_live_0123abcd/cfg')).toBe('/p/sk_live_[redacted]/cfg');
    await insertRequestLog(store.db, [rec({ path: '/api/v1/x?token=secret' })]);
    expect((await store.db.selectFrom('api_request_log').select('path').executeTakeFirstOrThrow()).path).toBe('/api/v1/x');
  });

  it('lists a tenant newest first with filters', async () => {
    await insertRequestLog(store.db, [
      rec({ request_id: 'a', time: '2030-01-01T00:00:01.000Z', status: 200 }),
      rec({ request_id: 'b', time: '2030-01-01T00:00:02.000Z', status: 404, method: 'POST', path: '/api/v1/api-keys' }),
      rec({ request_id: 'c', time: '2030-01-01T00:00:03.000Z', status: 500 }),
      rec({ request_id: 'd', tenant_id: 't2' }),
    ]);
    const ids = async (f: Parameters<typeof listRequestLog>[2]) => (await listRequestLog(store.db, 't1', f)).items.map((r) => r.request_id);
    expect(await ids({})).toEqual(['c', 'b', 'a']);
    expect(await ids({ statusClass: 4 })).toEqual(['b']);
    expect(await ids({ status: 500 })).toEqual(['c']);
    expect(await ids({ method: 'POST' })).toEqual(['b']);
    expect(await ids({ pathPrefix: '/api/v1/api-' })).toEqual(['b']);
    expect(await ids({ pathPrefix: '/api/v1/%' })).toEqual([]);
    expect(await ids({ from: '2030-01-01T00:00:02.000Z', to: '2030-01-01T00:00:03.000Z' })).toEqual(['b']);
    expect(await ids({ requestId: 'a' })).toEqual(['a']);
  });

  it('computes stats: classes, error rates, nearest-rank percentiles, routes', async () => {
    const rows = Array.from({ length: 100 }, (_, i) => rec({ duration_ms: i + 1, status: i < 90 ? 200 : i < 94 ? 404 : i < 98 ? 400 : 503, route: i % 2 ? '/a' : '/b' }));
    await insertRequestLog(store.db, rows);
    const s = await requestLogStats(store.db, 't1', { from: '2029-01-01T00:00:00.000Z', to: '2031-01-01T00:00:00.000Z' });
    expect(s).toMatchObject({ total: 100, byStatusClass: { '2xx': 90, '4xx': 8, '5xx': 2 }, errorRate: 0.1, serverErrorRate: 0.02 });
    expect(s.duration).toEqual({ avg: 50.5, p50: 50, p95: 95, p99: 99 });
    expect(s.byRoute).toHaveLength(2);
    expect(s.byRoute.reduce((n, r) => n + r.errors, 0)).toBe(10);
    const empty = await requestLogStats(store.db, 'none', { from: '2029-01-01T00:00:00.000Z', to: '2031-01-01T00:00:00.000Z' });
    expect(empty).toMatchObject({ total: 0, errorRate: 0, duration: { p50: null } });
  });

  it('prunes by age and by row cap', async () => {
    await insertRequestLog(store.db, [
      rec({ request_id: 'old', time: '2020-01-01T00:00:00.000Z' }),
      ...[1, 2, 3].map((n) => rec({ request_id: `n${n}`, time: `2030-01-01T00:00:0${n}.000Z` })),
    ]);
    expect(await pruneRequestLog(store.db, { before: '2029-01-01T00:00:00.000Z', maxRows: 2 })).toBe(2);
    expect((await listRequestLog(store.db, 't1')).items.map((r) => r.request_id)).toEqual(['n3', 'n2']);
  });
});

describe('RequestLogWriter', () => {
  it('buffers, writes a batch as soon as it is full, and the rest on close', async () => {
    const w = new RequestLogWriter(store.db, { batchSize: 3, flushIntervalMs: 60_000 });
    const count = async () => (await store.db.selectFrom('api_request_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;
    w.record(rec());
    w.record(rec());
    expect(await count()).toBe(0);
    w.record(rec());
    await w.flush();
    expect(await count()).toBe(3);
    w.record(rec());
    await w.close();
    expect(await count()).toBe(4);
    w.record(rec());
    expect(w.dropped).toBe(1);
  });

  it('writes on its timer, and applies retention', async () => {
    await insertRequestLog(store.db, [rec({ request_id: 'old', time: '2020-01-01T00:00:00.000Z' })]);
    const w = new RequestLogWriter(store.db, { flushIntervalMs: 5, retentionDays: 7, now: () => Date.parse('2030-01-02T00:00:00.000Z') });
    w.record(rec({ request_id: 'new' }));
    await new Promise((r) => setTimeout(r, 50));
    expect((await listRequestLog(store.db, 't1')).items.map((r) => r.request_id)).toEqual(['new']);
    await w.close();
  });

  it('reports write failures to onError and keeps going', async () => {
    const errors: unknown[] = [];
    const w = new RequestLogWriter(store.db, { onError: (e) => errors.push(e) });
    w.record({ ...rec(), status: null as unknown as number });
    await w.flush();
    expect(errors).toHaveLength(1);
    w.record(rec());
    await w.close();
    expect((await listRequestLog(store.db, 't1')).total).toBe(1);
  });
});
