import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSession, listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { asBearer, login, makeUser, sessionFor } from './auth-test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
const PW = 'a long password 1';
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

describe('login', () => {
  it('answers a bearer session with the user, marked no-store', async () => {
    const user = await makeUser(t, 'ada@example.com', PW, 'admin');
    const res = await login(t, 'ADA@example.com', PW);
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const data = (await body(res)).data;
    expect(data).toMatchObject({ token_type: 'Bearer', expires_in: 3600, refresh_expires_in: 30 * 86400, user: { id: user.id, role: 'admin' } });
    expect(data.access_token).toMatch(/^sbt_[0-9a-f]{48}$/);
    expect(data.refresh_token).toMatch(/^sbr_[0-9a-f]{48}$/);
    const audit = (await listAudit(t.db, t.tenant.id, { action: 'auth.login' })).items;
    expect(audit[0]).toMatchObject({ result: 'success', actorType: 'user', actorId: user.id });
  });

  it('answers unknown email and wrong password identically (401 INVALID_CREDENTIALS), audited without the password', async () => {
    const user = await makeUser(t, 'ada@example.com', PW);
    const wrong = await login(t, 'ada@example.com', 'wrong password!');
    const unknown = await login(t, 'nobody@example.com', 'wrong password!');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const [a, b] = [(await body(wrong)).error, (await body(unknown)).error];
    expect(a).toEqual(b);
    expect(a.code).toBe('INVALID_CREDENTIALS');
    const failures = (await t.db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.login').execute()).filter((e) => e.result === 'failure');
    expect(failures.map((e) => e.target_id).sort()).toEqual([null, user.id].sort());
    expect(JSON.stringify(failures)).not.toContain('wrong password!');
  });

  it('names invalid fields', async () => {
    const res = await t.call('POST', '/api/v1/auth/login', { key: '', body: { email: 'nope', password: '', tenant_id: 'x' } });
    expect(res.status).toBe(400);
    expect((await body(res)).error.details.map((d: { field: string }) => d.field).sort()).toEqual(['email', 'password', 'tenant_id']);
  });

  it('finds the account by tenant_id when the email exists in several tenants', async () => {
    await makeUser(t, 'same@example.com', PW);
    const other = await makeUser(t, 'same@example.com', 'other password 22', 'user', t.otherAdminKey);
    // Without tenant_id the primary tenant's account is meant.
    expect((await login(t, 'same@example.com', 'other password 22')).status).toBe(401);
    const res = await login(t, 'same@example.com', 'other password 22', { tenant_id: t.otherTenant.id });
    expect((await body(res)).data.user.id).toBe(other.id);
    // An email in a single tenant needs no tenant_id.
    await makeUser(t, 'solo@example.com', PW, 'user', t.otherAdminKey);
    expect((await login(t, 'solo@example.com', PW)).status).toBe(200);
  });

  it('replays a login under the same Idempotency-Key without its tokens (shown once), which never reach the database', async () => {
    await makeUser(t, 'ada@example.com', PW);
    const opts = { key: '', body: { email: 'ada@example.com', password: PW }, headers: { 'Idempotency-Key': 'login-1' } };
    const a = (await body(await t.call('POST', '/api/v1/auth/login', opts))).data;
    const again = await t.call('POST', '/api/v1/auth/login', opts);
    expect(again.headers.get('Idempotent-Replayed')).toBe('true');
    const b = (await body(again)).data;
    expect(b.access_token).toBe('[redacted]');
    expect(b.refresh_token).toBe('[redacted]');
    const rows = JSON.stringify(await t.db.selectFrom('idempotency_keys').selectAll().execute());
    expect(rows).not.toContain(a.access_token);
    expect(rows).not.toContain(a.refresh_token);
  });
});

describe('session lifecycle', () => {
  it('login → me → refresh (old tokens die) → logout → 401', async () => {
    const user = await makeUser(t, 'ada@example.com', PW, 'user');
    const s = await sessionFor(t, 'ada@example.com', PW);
    const me = await body(await asBearer(t, s.access_token, 'GET', '/api/v1/auth/me'));
    expect(me.data).toMatchObject({ type: 'user', id: user.id, tenant_id: t.tenant.id, scopes: ['voip:read'], user: { email: 'ada@example.com' } });

    const refreshed = await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: s.refresh_token } });
    expect(refreshed.status).toBe(200);
    const r = (await body(refreshed)).data;
    expect(r.access_token).not.toBe(s.access_token);
    expect((await asBearer(t, s.access_token, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await asBearer(t, r.access_token, 'GET', '/api/v1/auth/me')).status).toBe(200);

    expect((await asBearer(t, r.access_token, 'POST', '/api/v1/auth/logout')).status).toBe(204);
    expect((await asBearer(t, r.access_token, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: r.refresh_token } })).status).toBe(401);
    const actions = (await listAudit(t.db, t.tenant.id)).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.login', 'auth.refresh', 'auth.logout']));
  });

  it('revokes the session when a rotated refresh token is presented again', async () => {
    await makeUser(t, 'ada@example.com', PW);
    const s = await sessionFor(t, 'ada@example.com', PW);
    const r = (await body(await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: s.refresh_token } }))).data;
    const reuse = await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: s.refresh_token } });
    expect(reuse.status).toBe(401);
    expect((await body(reuse)).error.code).toBe('INVALID_REFRESH_TOKEN');
    expect((await asBearer(t, r.access_token, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: r.refresh_token } })).status).toBe(401);
    expect((await listAudit(t.db, t.tenant.id, { action: 'auth.refresh_reuse' })).total).toBe(1);
  });

  it('refuses an expired access token (401) and a malformed refresh token (400 naming it)', async () => {
    const user = await makeUser(t, 'ada@example.com', PW);
    const old = await createSession(t.db, { tenantId: t.tenant.id, userId: user.id, now: Date.now() - 2 * 60 * 60 * 1000 });
    expect((await asBearer(t, old.accessToken, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await asBearer(t, 'sbt_' + '0'.repeat(48), 'GET', '/api/v1/auth/me')).status).toBe(401);
    const bad = await t.call('POST', '/api/v1/auth/refresh', { key: '', body: { refresh_token: 'abc' } });
    expect((await body(bad)).error.details[0].field).toBe('refresh_token');
  });

  it('gives owner/admin sessions admin and user sessions voip:read only', async () => {
    await makeUser(t, 'admin@example.com', PW, 'admin');
    await makeUser(t, 'user@example.com', PW, 'user');
    const admin = await sessionFor(t, 'admin@example.com', PW);
    const user = await sessionFor(t, 'user@example.com', PW);
    expect((await asBearer(t, admin.access_token, 'GET', '/api/v1/users')).status).toBe(200);
    expect((await asBearer(t, user.access_token, 'GET', '/api/v1/users')).status).toBe(403);
    expect((await asBearer(t, user.access_token, 'GET', '/api/v1/tenants')).status).toBe(200);
    // An admin (not owner) user may not create owners.
    const res = await asBearer(t, admin.access_token, 'POST', '/api/v1/users', { email: 'o@example.com', name: 'O', role: 'owner', password: PW });
    expect(res.status).toBe(403);
    // Nor change, promote to or delete owners; an owner session may.
    const owner = await makeUser(t, 'owner@example.com', PW, 'owner');
    const plain = await makeUser(t, 'plain@example.com', PW, 'user');
    expect((await asBearer(t, admin.access_token, 'PATCH', `/api/v1/users/${owner.id}`, { email: 'mine@example.com' })).status).toBe(403);
    expect((await asBearer(t, admin.access_token, 'PATCH', `/api/v1/users/${plain.id}`, { role: 'owner' })).status).toBe(403);
    expect((await asBearer(t, admin.access_token, 'DELETE', `/api/v1/users/${owner.id}`)).status).toBe(403);
    expect((await asBearer(t, admin.access_token, 'PATCH', `/api/v1/users/${plain.id}`, { name: 'Plain' })).status).toBe(200);
    const ownerSession = await sessionFor(t, 'owner@example.com', PW);
    expect((await asBearer(t, ownerSession.access_token, 'PATCH', `/api/v1/users/${plain.id}`, { role: 'owner' })).status).toBe(200);
    // A demotion takes effect on the next request, not at the next login.
    expect((await asBearer(t, ownerSession.access_token, 'PATCH', `/api/v1/users/${(await body(await asBearer(t, admin.access_token, 'GET', '/api/v1/auth/me'))).data.id}`, { role: 'user' })).status).toBe(200);
    expect((await asBearer(t, admin.access_token, 'GET', '/api/v1/users')).status).toBe(403);
  });

  it('answers me for an API key with its id, tenant and scopes', async () => {
    const me = await body(await t.call('GET', '/api/v1/auth/me'));
    expect(me.data).toMatchObject({ type: 'api_key', tenant_id: t.tenant.id, scopes: ['admin'] });
    expect(me.data.user).toBeUndefined();
  });

  it('needs a session for logout (403 SESSION_REQUIRED for a key), credentials for me, and the scope', async () => {
    const res = await t.call('POST', '/api/v1/auth/logout');
    expect(res.status).toBe(403);
    expect((await body(res)).error.code).toBe('SESSION_REQUIRED');
    expect((await t.call('GET', '/api/v1/auth/me', { key: '' })).status).toBe(401);
    expect((await t.call('POST', '/api/v1/auth/logout', { key: '' })).status).toBe(401);
    expect((await t.call('GET', '/api/v1/auth/me', { key: await t.keyFor(['cdrs:read']) })).status).toBe(403);
  });
});
