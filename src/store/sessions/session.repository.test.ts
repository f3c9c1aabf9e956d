import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../database.js';
import { openTestStoreWithTenant } from '../test-helpers.js';
import { createUser, deleteUser, updateUser } from '../users/user.repository.js';
import {
  ACCESS_TTL_MS,
  REFRESH_TTL_MS,
  RESET_TTL_MS,
  consumePasswordResetToken,
  createPasswordResetToken,
  createSession,
  findSessionByAccessToken,
  hashToken,
  purgeExpiredSessions,
  revokeSession,
  revokeUserSessions,
  rotateSession,
} from './session.repository.js';

let store: Store;
let tenantId: string;
let userId: string;
const T0 = Date.parse('2026-01-01T00:00:00Z');

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
  userId = (await createUser(store.db, { tenantId, email: 'a@x.test', name: 'A', role: 'admin', passwordHash: 'h' })).id;
});
afterEach(() => store.close());

describe('sessions', () => {
  it('issues sbt_/sbr_ tokens stored only as SHA-256', async () => {
    const s = await createSession(store.db, { tenantId, userId, now: T0, ip: '10.0.0.1', userAgent: 'ua' });
    expect(s.accessToken).toMatch(/^sbt_[0-9a-f]{48}$/);
    expect(s.refreshToken).toMatch(/^sbr_[0-9a-f]{48}$/);
    const rows = JSON.stringify(await store.db.selectFrom('sessions').selectAll().execute());
    expect(rows).not.toContain(s.accessToken.slice(4));
    expect(rows).not.toContain(s.refreshToken.slice(4));
    expect(rows).toContain(hashToken(s.accessToken));
  });

  it('resolves an access token until it expires or the session is revoked, with the current role', async () => {
    const s = await createSession(store.db, { tenantId, userId, now: T0 });
    expect(await findSessionByAccessToken(store.db, s.accessToken, T0 + 1000)).toMatchObject({ role: 'admin', session: { userId } });
    await updateUser(store.db, tenantId, userId, { role: 'user' });
    expect((await findSessionByAccessToken(store.db, s.accessToken, T0))?.role).toBe('user');
    expect(await findSessionByAccessToken(store.db, s.accessToken, T0 + ACCESS_TTL_MS)).toBeUndefined();
    expect(await findSessionByAccessToken(store.db, s.refreshToken, T0)).toBeUndefined();
    await revokeSession(store.db, s.session.id, T0);
    expect(await findSessionByAccessToken(store.db, s.accessToken, T0)).toBeUndefined();
  });

  it('rotates both tokens on refresh; the old pair stops working; reuse revokes the session', async () => {
    const s = await createSession(store.db, { tenantId, userId, now: T0 });
    const r = await rotateSession(store.db, s.refreshToken, T0 + 10);
    if (r.kind !== 'rotated') throw new Error(r.kind);
    expect(r.session.id).toBe(s.session.id);
    expect(await findSessionByAccessToken(store.db, s.accessToken, T0 + 20)).toBeUndefined();
    expect(await findSessionByAccessToken(store.db, r.accessToken, T0 + 20)).toBeDefined();
    const reuse = await rotateSession(store.db, s.refreshToken, T0 + 30);
    expect(reuse.kind).toBe('reused');
    expect(await findSessionByAccessToken(store.db, r.accessToken, T0 + 40)).toBeUndefined();
    expect((await rotateSession(store.db, r.refreshToken, T0 + 50)).kind).toBe('invalid');
  });

  it('refuses unknown and expired refresh tokens', async () => {
    const s = await createSession(store.db, { tenantId, userId, now: T0 });
    expect((await rotateSession(store.db, 'sbr_nope', T0)).kind).toBe('invalid');
    expect((await rotateSession(store.db, s.refreshToken, T0 + REFRESH_TTL_MS)).kind).toBe('invalid');
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const s = await createSession(store.db, { tenantId, userId, now: T0 });
    const results = await Promise.all([rotateSession(store.db, s.refreshToken, T0 + 1), rotateSession(store.db, s.refreshToken, T0 + 1)]);
    expect(results.map((r) => r.kind).sort()).toEqual(['reused', 'rotated']);
  });

  it('revokes all of a user\'s sessions but one, and cascades on user deletion', async () => {
    const a = await createSession(store.db, { tenantId, userId, now: T0 });
    const b = await createSession(store.db, { tenantId, userId, now: T0 });
    expect(await revokeUserSessions(store.db, userId, T0, a.session.id)).toBe(1);
    expect(await findSessionByAccessToken(store.db, a.accessToken, T0)).toBeDefined();
    expect(await findSessionByAccessToken(store.db, b.accessToken, T0)).toBeUndefined();
    await deleteUser(store.db, tenantId, userId);
    expect(await store.db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });
});

describe('purgeExpiredSessions', () => {
  it('deletes sessions and reset tokens past their expiry, and nothing else', async () => {
    const old = await createSession(store.db, { tenantId, userId, now: T0 });
    await rotateSession(store.db, old.refreshToken, T0 + 1);
    const fresh = await createSession(store.db, { tenantId, userId, now: T0 + REFRESH_TTL_MS });
    await createPasswordResetToken(store.db, { tenantId, userId, now: T0 });
    expect(await purgeExpiredSessions(store.db, T0 + REFRESH_TTL_MS + 10)).toEqual({ sessions: 1, resetTokens: 1 });
    expect((await store.db.selectFrom('sessions').select('id').execute()).map((r) => r.id)).toEqual([fresh.session.id]);
    expect(await store.db.selectFrom('session_retired_refresh_tokens').selectAll().execute()).toEqual([]);
  });
});

describe('password reset tokens', () => {
  it('work once, within the hour, newest only', async () => {
    const first = await createPasswordResetToken(store.db, { tenantId, userId, now: T0 });
    const second = await createPasswordResetToken(store.db, { tenantId, userId, now: T0 });
    expect(second.token).toMatch(/^sbp_[0-9a-f]{48}$/);
    expect(await consumePasswordResetToken(store.db, first.token, T0)).toBeUndefined();
    expect(await consumePasswordResetToken(store.db, second.token, T0 + 1)).toEqual({ tenantId, userId });
    expect(await consumePasswordResetToken(store.db, second.token, T0 + 2)).toBeUndefined();
    const late = await createPasswordResetToken(store.db, { tenantId, userId, now: T0 });
    expect(await consumePasswordResetToken(store.db, late.token, T0 + RESET_TTL_MS)).toBeUndefined();
    const rows = JSON.stringify(await store.db.selectFrom('password_reset_tokens').selectAll().execute());
    expect(rows).not.toContain(second.token.slice(4));
  });
});
