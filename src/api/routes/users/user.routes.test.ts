import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const PASSWORD = 'long enough password';
const create = (b: Record<string, unknown>, key?: string) =>
  t.call('POST', '/api/v1/users', { body: { password: PASSWORD, name: 'Ada', ...b }, ...(key !== undefined && { key }) });
const fields = async (res: Response) => (await body(res)).error.details.map((d: { field: string }) => d.field);

describe('users', () => {
  it('creates, gets, patches and deletes; never shows a password or hash', async () => {
    const res = await create({ email: 'Ada@Example.com', role: 'admin' });
    expect(res.status).toBe(201);
    const raw = await res.text();
    expect(raw).not.toContain(PASSWORD);
    expect(raw).not.toContain('scrypt');
    const user = JSON.parse(raw).data;
    expect(user).toEqual({
      id: expect.any(String), tenant_id: t.tenant.id, email: 'ada@example.com', name: 'Ada', role: 'admin',
      created_at: expect.any(String), updated_at: expect.any(String),
    });
    expect((await body(await t.call('GET', `/api/v1/users/${user.id}`))).data).toEqual(user);
    const patched = await t.call('PATCH', `/api/v1/users/${user.id}`, { body: { name: 'Ada L.', role: 'user', email: 'ada@new.example' } });
    expect((await body(patched)).data).toMatchObject({ name: 'Ada L.', role: 'user', email: 'ada@new.example' });
    expect((await t.call('DELETE', `/api/v1/users/${user.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/users/${user.id}`)).status).toBe(404);
    const entries = (await listAudit(t.db, t.tenant.id)).items;
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['user.created', 'user.updated', 'user.deleted']));
    expect(JSON.stringify(entries)).not.toContain(PASSWORD);
  });

  it('defaults the role to user and validates each field', async () => {
    expect((await body(await create({ email: 'u@example.com' }))).data.role).toBe('user');
    expect(await fields(await create({ email: 'not-an-email' }))).toEqual(['email']);
    expect(await fields(await create({ email: 'a@example.com', password: 'short' }))).toEqual(['password']);
    expect(await fields(await create({ email: 'a@example.com', role: 'root' }))).toEqual(['role']);
    expect(await fields(await create({ email: 'a@example.com', name: '' }))).toEqual(['name']);
    const u = (await body(await create({ email: 'b@example.com' }))).data;
    expect(await fields(await t.call('PATCH', `/api/v1/users/${u.id}`, { body: { role: 'god' } }))).toEqual(['role']);
    expect(await fields(await t.call('GET', '/api/v1/users?role=x'))).toEqual(['role']);
  });

  it('keeps emails unique per tenant, ignoring case (409), but not across tenants', async () => {
    await create({ email: 'ada@example.com' });
    expect((await create({ email: 'ADA@example.com' })).status).toBe(409);
    expect((await create({ email: 'ada@example.com' }, t.otherAdminKey)).status).toBe(201);
    const other = (await body(await create({ email: 'bob@example.com' }))).data;
    expect((await t.call('PATCH', `/api/v1/users/${other.id}`, { body: { email: 'Ada@Example.com' } })).status).toBe(409);
  });

  it('refuses to delete or demote the last owner (409 LAST_OWNER)', async () => {
    const owner = (await body(await create({ email: 'o1@example.com', role: 'owner' }))).data;
    const demote = await t.call('PATCH', `/api/v1/users/${owner.id}`, { body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect((await body(demote)).error.code).toBe('LAST_OWNER');
    expect((await t.call('DELETE', `/api/v1/users/${owner.id}`)).status).toBe(409);
    // Renaming the last owner is fine, and with a second owner the first may go.
    expect((await t.call('PATCH', `/api/v1/users/${owner.id}`, { body: { name: 'Still owner', role: 'owner' } })).status).toBe(200);
    await create({ email: 'o2@example.com', role: 'owner' });
    expect((await t.call('PATCH', `/api/v1/users/${owner.id}`, { body: { role: 'user' } })).status).toBe(200);
  });

  it('hides another tenant\'s users (404)', async () => {
    const u = (await body(await create({ email: 'ada@example.com' }))).data;
    const key = t.otherAdminKey;
    for (const [method, b] of [['GET', undefined], ['PATCH', { name: 'x' }], ['DELETE', undefined]] as const) {
      const res = await t.call(method, `/api/v1/users/${u.id}`, { key, ...(b && { body: b }) });
      expect(res.status, method).toBe(404);
      expect((await body(res)).error.code).toBe('USER_NOT_FOUND');
    }
    expect((await body(await t.call('GET', '/api/v1/users', { key }))).data).toEqual([]);
  });

  it('answers 401 without credentials and 403 without admin', async () => {
    expect((await t.call('GET', '/api/v1/users', { key: '' })).status).toBe(401);
    const reader = await t.keyFor(['voip:read']);
    expect((await t.call('GET', '/api/v1/users', { key: reader })).status).toBe(403);
    expect((await create({ email: 'x@example.com' }, await t.keyFor(['cdrs:read']))).status).toBe(403);
  });

  it('pages, sorts and filters by role', async () => {
    for (const [email, role] of [['c@x.test', 'user'], ['a@x.test', 'admin'], ['b@x.test', 'user']]) await create({ email, role });
    const one = await body(await t.call('GET', '/api/v1/users?limit=1'));
    expect(one.data[0].email).toBe('a@x.test');
    expect(one.pagination).toEqual({ limit: 1, offset: 0, total: 3, has_more: true });
    expect((await body(await t.call('GET', '/api/v1/users?offset=3'))).data).toEqual([]);
    expect((await body(await t.call('GET', '/api/v1/users?role=user&sort=-email'))).data.map((u: { email: string }) => u.email)).toEqual(['c@x.test', 'b@x.test']);
    expect((await t.call('GET', '/api/v1/users?limit=0')).status).toBe(400);
    expect((await t.call('GET', '/api/v1/users?limit=501')).status).toBe(400);
  });

  it('replays a POST with the same Idempotency-Key (the stored replay holds no password)', async () => {
    const opts = { body: { email: 'once@example.com', name: 'Once', password: PASSWORD }, headers: { 'Idempotency-Key': 'user-once' } };
    const first = await t.call('POST', '/api/v1/users', opts);
    const again = await t.call('POST', '/api/v1/users', opts);
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(await first.text());
    const stored = await t.db.selectFrom('idempotency_keys').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
  });
});
