import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { assertGrantable } from './api-keys.routes.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const create = (b: unknown, key?: string) => t.call('POST', '/api/v1/api-keys', { body: b, ...(key === undefined ? {} : { key }) });
const fields = async (res: Response) => (await body(res)).error.details.map((d: { field: string }) => d.field);

describe('POST /api/v1/api-keys', () => {
  it('creates a key shown once, with hint, scopes and status; the key then authenticates', async () => {
    const res = await create({ name: 'crm', scopes: ['voip:read', 'cdrs:read'], expires_in_days: 30 });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const { data } = await body(res);
    expect(data.key).toMatch(/^sk_live_[0-9a-f]{48}$/);
    expect(data).toMatchObject({ name: 'crm', scopes: ['voip:read', 'cdrs:read'], status: 'active', key_hint: `…${data.key.slice(-4)}`, revoked_at: null });
    expect(Date.parse(data.expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    const got = await body(await t.call('GET', `/api/v1/api-keys/${data.id}`));
    expect(got.data.key).toBeUndefined();
    // the new key lacks admin, so it may not list keys, but it does authenticate (403, not 401)
    expect((await t.call('GET', '/api/v1/api-keys', { key: data.key })).status).toBe(403);
  });

  it('accepts a future expires_at', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const res = await create({ name: 'short', scopes: ['admin'], expires_at: at });
    expect(res.status).toBe(201);
    expect((await body(res)).data.expires_at).toBe(at);
  });

  it.each([
    [{ scopes: ['voip:read'] }, 'name'],
    [{ name: '  ', scopes: ['voip:read'] }, 'name'],
    [{ name: 'x' }, 'scopes'],
    [{ name: 'x', scopes: [] }, 'scopes'],
    [{ name: 'x', scopes: ['public'] }, 'scopes.0'],
    [{ name: 'x', scopes: ['voip:read', 'root'] }, 'scopes.1'],
    [{ name: 'x', scopes: ['voip:read', 'voip:read'] }, 'scopes'],
    [{ name: 'x', scopes: ['voip:read'], expires_at: 'tomorrow' }, 'expires_at'],
    [{ name: 'x', scopes: ['voip:read'], expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
    [{ name: 'x', scopes: ['voip:read'], expires_in_days: 0 }, 'expires_in_days'],
    [{ name: 'x', scopes: ['voip:read'], expires_in_days: 1, expires_at: '2999-01-01T00:00:00Z' }, 'expires_in_days'],
  ])('refuses %j naming %s', async (input, field) => {
    const res = await create(input);
    expect(res.status).toBe(400);
    const { error } = await body(res);
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('answers 401 without a key and 403 for a key without admin', async () => {
    expect((await create({ name: 'x', scopes: ['voip:read'] }, '')).status).toBe(401);
    const res = await create({ name: 'x', scopes: ['voip:read'] }, await t.keyFor(['cdrs:read']));
    expect(res.status).toBe(403);
    expect((await body(res)).error.code).toBe('FORBIDDEN');
  });

  it('replays an Idempotency-Key with the same key id, never storing the key itself', async () => {
    const send = () => t.call('POST', '/api/v1/api-keys', { body: { name: 'once', scopes: ['voip:read'] }, headers: { 'Idempotency-Key': 'k-1' } });
    const first = await send();
    const firstBody = await body(first);
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    const againBody = await body(again);
    expect(againBody.data.id).toBe(firstBody.data.id);
    expect(againBody.data.key).toBe('[redacted]');
    const rows = await t.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(firstBody.data.key);
    expect((await body(await t.call('GET', '/api/v1/api-keys'))).pagination.total).toBe(2); // admin + one
  });
});

describe('a key cannot grant what its creator lacks', () => {
  it('names each scope the caller does not hold; admin may grant anything', () => {
    expect(() => assertGrantable(['admin'], ['cdrs:read', 'admin'])).not.toThrow();
    expect(() => assertGrantable(['voip:read'], ['voip:read', 'cdrs:read'])).toThrow(expect.objectContaining({ code: 'FORBIDDEN', details: [{ field: 'scopes.1', issue: expect.any(String) }] }));
  });
});

describe('GET /api/v1/api-keys', () => {
  it('lists metadata without keys, newest first, within the tenant', async () => {
    const made = await body(await create({ name: 'listed', scopes: ['voip:read'] }));
    const res = await t.call('GET', '/api/v1/api-keys');
    expect(res.status).toBe(200);
    const list = await body(res);
    expect(list.data[0]).toMatchObject({ id: made.data.id, key_hint: made.data.key_hint });
    expect(JSON.stringify(list)).not.toContain(made.data.key);
    expect(list.data.every((k: Record<string, unknown>) => !('key' in k))).toBe(true);
    const other = await body(await t.call('GET', '/api/v1/api-keys', { key: t.otherAdminKey }));
    expect(other.data.map((k: { id: string }) => k.id)).not.toContain(made.data.id);
  });

  it('pages: limit=1 has more, offset past the end is empty, limit 0 and 501 are refused', async () => {
    await create({ name: 'b', scopes: ['voip:read'] });
    const first = await body(await t.call('GET', '/api/v1/api-keys?limit=1'));
    expect(first.data).toHaveLength(1);
    expect(first.pagination).toEqual({ limit: 1, offset: 0, total: 2, has_more: true });
    const beyond = await body(await t.call('GET', '/api/v1/api-keys?offset=10'));
    expect(beyond).toMatchObject({ data: [], pagination: { total: 2, has_more: false } });
    for (const bad of ['limit=0', 'limit=501', 'offset=-1', 'sort=key_hash']) {
      const res = await t.call('GET', `/api/v1/api-keys?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(await fields(res)).toContain(bad.split('=')[0]);
    }
    const byName = await body(await t.call('GET', '/api/v1/api-keys?sort=name'));
    expect(byName.data.map((k: { name: string }) => k.name)).toEqual(['b', 'test admin']);
  });

  it('answers 401 and 403', async () => {
    expect((await t.call('GET', '/api/v1/api-keys', { key: '' })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/api-keys', { key: await t.keyFor(['cdrs:read']) })).status).toBe(403);
  });
});

describe('GET and PATCH /api/v1/api-keys/{id}', () => {
  it('gets, renames and rescopes a key, and audits the change', async () => {
    const made = (await body(await create({ name: 'old', scopes: ['voip:read'] }))).data;
    const res = await t.call('PATCH', `/api/v1/api-keys/${made.id}`, { body: { name: 'new', scopes: ['cdrs:read'] } });
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ name: 'new', scopes: ['cdrs:read'] });
    expect((await body(await t.call('GET', `/api/v1/api-keys/${made.id}`))).data.name).toBe('new');
    const audit = await listAudit(t.db, t.tenant.id, { action: 'api_key.updated' });
    expect(audit.items[0]?.details).toEqual({ name: { from: 'old', to: 'new' }, scopes: { from: ['voip:read'], to: ['cdrs:read'] } });
  });

  it('validates the id and the body, naming fields', async () => {
    const made = (await body(await create({ name: 'k', scopes: ['voip:read'] }))).data;
    expect(await fields(await t.call('GET', '/api/v1/api-keys/not-a-uuid'))).toContain('id');
    expect(await fields(await t.call('PATCH', `/api/v1/api-keys/${made.id}`, { body: {} }))).toContain('name');
    expect(await fields(await t.call('PATCH', `/api/v1/api-keys/${made.id}`, { body: { scopes: ['public'] } }))).toContain('scopes.0');
  });

  it("answers 404 for another tenant's key on every item route", async () => {
    const made = (await body(await create({ name: 'mine', scopes: ['voip:read'] }))).data;
    const key = t.otherAdminKey;
    for (const [method, path, b] of [
      ['GET', `/api/v1/api-keys/${made.id}`],
      ['PATCH', `/api/v1/api-keys/${made.id}`, { name: 'stolen' }],
      ['POST', `/api/v1/api-keys/${made.id}/rotate`, {}],
      ['POST', `/api/v1/api-keys/${made.id}/revoke`],
      ['DELETE', `/api/v1/api-keys/${made.id}`],
    ] as const) {
      const res = await t.call(method, path, { key, ...(b === undefined ? {} : { body: b }) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect((await body(res)).error.code).toBe('API_KEY_NOT_FOUND');
    }
    // and the key still works: nothing was revoked or rotated by the other tenant
    expect((await t.call('GET', '/api/v1/api-keys', { key: made.key })).status).toBe(403);
  });

  it('answers 401 and 403 on item routes', async () => {
    const made = (await body(await create({ name: 'k', scopes: ['voip:read'] }))).data;
    const narrow = await t.keyFor(['cdrs:read']);
    for (const [method, path] of [
      ['GET', `/api/v1/api-keys/${made.id}`],
      ['PATCH', `/api/v1/api-keys/${made.id}`],
      ['POST', `/api/v1/api-keys/${made.id}/rotate`],
      ['POST', `/api/v1/api-keys/${made.id}/revoke`],
      ['DELETE', `/api/v1/api-keys/${made.id}`],
    ] as const) {
      const b = method === 'GET' ? {} : { body: { name: 'x' } };
      expect((await t.call(method, path, { key: '', ...b })).status, `${method} ${path}`).toBe(401);
      expect((await t.call(method, path, { key: narrow, ...b })).status, `${method} ${path}`).toBe(403);
    }
  });
});
