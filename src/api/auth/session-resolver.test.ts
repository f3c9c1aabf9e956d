import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { createSession, createUser, type Store } from '../../store/index.js';
import { openTestStoreWithTenant } from '../../store/test-helpers.js';
import { scopesForRole, sessionBearerResolver } from './session-resolver.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('sessionBearerResolver', () => {
  it('maps a live access token to user, tenant, role scopes and session, judged on the given clock', async () => {
    const T0 = Date.parse('2026-03-01T10:00:00Z');
    const clock = new FakeClock(T0);
    const user = await createUser(store.db, { tenantId, email: 'u@x.test', name: 'U', role: 'user', passwordHash: 'h' });
    const s = await createSession(store.db, { tenantId, userId: user.id, now: T0 });
    const resolve = sessionBearerResolver({ db: store.db, clock });
    expect(await resolve(s.accessToken)).toEqual({ type: 'user', id: user.id, tenantId, scopes: ['voip:read'], sessionId: s.session.id });
    clock.advance(60 * 60 * 1000);
    expect(await resolve(s.accessToken)).toBeUndefined();
  });

  it('refuses anything not shaped like an access token without a lookup', async () => {
    const resolve = sessionBearerResolver({ db: store.db, clock: new FakeClock() });
    for (const token of ['', 'sbr_' + 'a'.repeat(48), 'sbt_' + 'A'.repeat(48), 'sbt_short']) expect(await resolve(token)).toBeUndefined();
  });

  it('gives owners and admins admin, users voip:read', () => {
    expect(scopesForRole('owner')).toEqual(['admin']);
    expect(scopesForRole('admin')).toEqual(['admin']);
    expect(scopesForRole('user')).toEqual(['voip:read']);
  });
});
