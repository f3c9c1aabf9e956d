import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { asBearer, login, makeUser, sessionFor } from './auth-test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
const PW = 'a long password 1';
const NEW = 'a brand new password 2';
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

const fields = async (res: Response) => (await body(res)).error.details.map((d: { field: string }) => d.field);

describe('change password', () => {
  it('changes it, keeps the caller\'s session and ends the others', async () => {
    await makeUser(t, 'ada@example.com', PW);
    const mine = await sessionFor(t, 'ada@example.com', PW);
    const other = await sessionFor(t, 'ada@example.com', PW);
    const res = await asBearer(t, mine.access_token, 'POST', '/api/v1/auth/password', { current_password: PW, new_password: NEW });
    expect(res.status).toBe(204);
    expect((await asBearer(t, mine.access_token, 'GET', '/api/v1/auth/me')).status).toBe(200);
    expect((await asBearer(t, other.access_token, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await login(t, 'ada@example.com', PW)).status).toBe(401);
    expect((await login(t, 'ada@example.com', NEW)).status).toBe(200);
    const entry = (await listAudit(t.db, t.tenant.id, { action: 'user.password_changed' })).items[0];
    expect(entry?.details).toEqual({ sessions_revoked: 1 });
  });

  it('refuses a wrong current password (400 naming it) and a short new one', async () => {
    await makeUser(t, 'ada@example.com', PW);
    const s = await sessionFor(t, 'ada@example.com', PW);
    const wrong = await asBearer(t, s.access_token, 'POST', '/api/v1/auth/password', { current_password: 'not it at all', new_password: NEW });
    expect(wrong.status).toBe(400);
    const err = (await body(wrong)).error;
    expect(err.code).toBe('INVALID_CURRENT_PASSWORD');
    expect(err.details.map((d: { field: string }) => d.field)).toEqual(['current_password']);
    const short = await asBearer(t, s.access_token, 'POST', '/api/v1/auth/password', { current_password: PW, new_password: 'short' });
    expect(await fields(short)).toEqual(['new_password']);
  });

  it('needs a session: 401 without credentials, 403 SESSION_REQUIRED for an API key', async () => {
    const b = { current_password: PW, new_password: NEW };
    expect((await t.call('POST', '/api/v1/auth/password', { key: '', body: b })).status).toBe(401);
    const res = await t.call('POST', '/api/v1/auth/password', { body: b });
    expect((await body(res)).error.code).toBe('SESSION_REQUIRED');
  });
});

describe('password reset', () => {
  const issue = (id: string, key?: string) => t.call('POST', `/api/v1/users/${id}/password-reset`, { ...(key !== undefined && { key }) });
  const confirm = (token: string, password = NEW) => t.call('POST', '/api/v1/auth/password-reset', { key: '', body: { token, new_password: password } });

  it('issues a one-time token that sets a new password and ends every session', async () => {
    const user = await makeUser(t, 'ada@example.com', PW);
    const s = await sessionFor(t, 'ada@example.com', PW);
    const res = await issue(user.id);
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const { token, expires_at: expiresAt } = (await body(res)).data;
    expect(token).toMatch(/^sbp_[0-9a-f]{48}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(59 * 60 * 1000);
    expect((await confirm(token)).status).toBe(204);
    expect((await asBearer(t, s.access_token, 'GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await login(t, 'ada@example.com', NEW)).status).toBe(200);
    const again = await confirm(token, 'yet another password');
    expect(again.status).toBe(400);
    expect((await body(again)).error.code).toBe('INVALID_RESET_TOKEN');
    const actions = (await listAudit(t.db, t.tenant.id)).items.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.password_reset_issued', 'user.password_reset']));
  });

  it('names invalid fields', async () => {
    const res = await t.call('POST', '/api/v1/auth/password-reset', { key: '', body: { token: 'x', new_password: 'short' } });
    expect((await fields(res)).sort()).toEqual(['new_password', 'token']);
    expect(await fields(await t.call('POST', '/api/v1/users/nope/password-reset'))).toEqual(['id']);
  });

  it('scopes issuing: 401, 403 without admin, 404 for another tenant\'s user, 403 for an admin user resetting an owner', async () => {
    const owner = await makeUser(t, 'owner@example.com', PW, 'owner');
    expect((await issue(owner.id, '')).status).toBe(401);
    expect((await issue(owner.id, await t.keyFor(['voip:read']))).status).toBe(403);
    const res = await issue(owner.id, t.otherAdminKey);
    expect(res.status).toBe(404);
    expect((await body(res)).error.code).toBe('USER_NOT_FOUND');
    await makeUser(t, 'admin@example.com', PW, 'admin');
    const admin = await sessionFor(t, 'admin@example.com', PW);
    expect((await asBearer(t, admin.access_token, 'POST', `/api/v1/users/${owner.id}/password-reset`)).status).toBe(403);
    const ownerSession = await sessionFor(t, 'owner@example.com', PW);
    expect((await asBearer(t, ownerSession.access_token, 'POST', `/api/v1/users/${owner.id}/password-reset`)).status).toBe(201);
  });
});
