import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const fields = async (res: Response) => (await body(res)).error.details.map((d: { field: string }) => d.field);

/** A few requests of each outcome, then the log is flushed so the routes can read it. */
async function traffic(): Promise<void> {
  await t.call('GET', '/api/v1/api-keys', { headers: { 'X-Request-ID': 'trace-ok', 'User-Agent': 'crm/1.0' } });
  await t.call('GET', '/api/v1/api-keys/00000000-0000-4000-8000-000000000000');
  await t.call('POST', '/api/v1/api-keys', { body: { name: 'x' } });
  await t.call('GET', '/api/v1/audit', { key: t.otherAdminKey });
  await t.requestLog.flush();
}

describe('GET /api/v1/logs', () => {
  it("lists the tenant's requests newest first with route, status, error code and caller", async () => {
    await traffic();
    const res = await t.call('GET', '/api/v1/logs');
    expect(res.status).toBe(200);
    const { data, pagination } = await body(res);
    expect(pagination.total).toBe(3);
    expect(data.map((e: { status: number }) => e.status)).toEqual([400, 404, 200]);
    expect(data[1]).toMatchObject({
      method: 'GET',
      path: '/api/v1/api-keys/00000000-0000-4000-8000-000000000000',
      route: '/api/v1/api-keys/:id',
      error_code: 'API_KEY_NOT_FOUND',
    });
    expect(data[2]).toMatchObject({ request_id: 'trace-ok', user_agent: 'crm/1.0', error_code: null });
    expect(data[2].principal_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(data[0].error_code).toBe('VALIDATION_FAILED');
    // the other tenant sees only its own request
    const other = await body(await t.call('GET', '/api/v1/logs', { key: t.otherAdminKey }));
    expect(other.data.map((e: { route: string }) => e.route)).toEqual(['/api/v1/audit']);
  });

  it('filters by method, status, status class, path prefix, request id and time', async () => {
    await traffic();
    const statuses = async (q: string) => (await body(await t.call('GET', `/api/v1/logs?${q}`))).data.map((e: { status: number }) => e.status);
    expect(await statuses('method=POST')).toEqual([400]);
    expect(await statuses('status=404')).toEqual([404]);
    expect(await statuses('status_class=4xx')).toEqual([400, 404]);
    expect(await statuses('status_class=2xx')).toEqual([200]);
    expect(await statuses('path=/api/v1/api-keys/')).toEqual([404]);
    expect(await statuses('request_id=trace-ok')).toEqual([200]);
    expect(await statuses(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    expect(await statuses(`to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toHaveLength(3);
  });

  it('pages and validates, naming fields', async () => {
    await traffic();
    expect((await body(await t.call('GET', '/api/v1/logs?limit=1'))).pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    expect((await body(await t.call('GET', '/api/v1/logs?offset=50'))).data).toEqual([]);
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['status=99', 'status'],
      ['status_class=6xx', 'status_class'],
      ['method=FETCH', 'method'],
      ['path=api', 'path'],
      ['from=yesterday', 'from'],
      ['from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z', 'from'],
    ]) {
      const res = await t.call('GET', `/api/v1/logs?${q}`);
      expect(res.status, q).toBe(400);
      expect(await fields(res), q).toContain(field);
    }
  });

  it('answers 401 and 403', async () => {
    for (const path of ['/api/v1/logs', '/api/v1/logs/stats']) {
      expect((await t.call('GET', path, { key: '' })).status).toBe(401);
      expect((await t.call('GET', path, { key: await t.keyFor(['cdrs:read']) })).status).toBe(403);
    }
  });
});

describe('GET /api/v1/logs/stats', () => {
  it('summarises the last 24 hours by default: classes, error rates, percentiles, routes', async () => {
    await traffic();
    const res = await t.call('GET', '/api/v1/logs/stats');
    expect(res.status).toBe(200);
    const { data } = await body(res);
    expect(Date.parse(data.to) - Date.parse(data.from)).toBe(86_400_000);
    expect(data).toMatchObject({ total: 3, by_status_class: { '2xx': 1, '4xx': 2 }, server_error_rate: 0 });
    expect(data.error_rate).toBeCloseTo(2 / 3);
    for (const p of ['avg', 'p50', 'p95', 'p99']) expect(typeof data.duration_ms[p]).toBe('number');
    expect(data.by_route).toEqual(
      expect.arrayContaining([expect.objectContaining({ method: 'GET', route: '/api/v1/api-keys/:id', count: 1, errors: 1 })]),
    );
  });

  it('takes a window, and validates it', async () => {
    await traffic();
    const past = await body(await t.call('GET', '/api/v1/logs/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z'));
    expect(past.data).toMatchObject({ total: 0, error_rate: 0, duration_ms: { p50: null } });
    expect(await fields(await t.call('GET', '/api/v1/logs/stats?to=2020-01-01T00:00:00Z&from=2021-01-01T00:00:00Z'))).toEqual(['from']);
    expect(await fields(await t.call('GET', '/api/v1/logs/stats?from=soon'))).toEqual(['from']);
  });
});

describe('the request log holds no secrets', () => {
  it('records no API key or password sent in headers, query string or body', async () => {
    const password = 'hunter2-very-secret';
    await t.app.request(`/api/v1/api-keys?api_key=${t.adminKey}&password=${password}&token=tok-secret`, {
      headers: { Authorization: `Bearer ${t.adminKey}`, 'User-Agent': 'probe' },
    });
    await t.call('POST', `/api/v1/user-mappings/batch?api_key=${t.adminKey}`, { body: { mappings: [{ external_user_id: 'u', password }] } });
    await t.app.request(`/api/v1/nowhere/${t.adminKey}?password=${password}`, { headers: { 'X-API-Key': t.adminKey } });
    await t.requestLog.flush();
    const rows = await t.db.selectFrom('api_request_log').selectAll().execute();
    expect(rows.length).toBe(3);
    const dump = JSON.stringify(rows);
    for (const secret of [t.adminKey, password, 'tok-secret', 'api_key=']) expect(dump).not.toContain(secret);
    expect(rows.map((r) => r.path)).toContain('/api/v1/nowhere/sk_live_[redacted]');
  });
});
