import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { createExtension, updateExtension, type Store } from '../../store/index.js';
import { openTestStoreWithTenant, testSecretKey } from '../../store/test-helpers.js';
import { DirectoryCache } from './directory-cache.js';

let store: Store | undefined;
afterEach(() => store?.close());

describe('DirectoryCache', () => {
  it('serves credentials from memory until the store changes an extension, then reads again', async () => {
    const t = await openTestStoreWithTenant();
    store = t.store;
    const key = testSecretKey();
    const clock = new FakeClock(0);
    const cache = new DirectoryCache({ db: store.db, clock, ttlMs: 60_000 });
    expect(await cache.credentialsOf(t.tenantId, '1001')).toBeUndefined();
    // A create bumps the store's counter: the cached "unknown" is not served again.
    const { extension } = await createExtension(store.db, key, { tenantId: t.tenantId, number: '1001', sipPassword: 'one' });
    const first = await cache.credentialsOf(t.tenantId, '1001');
    expect(first?.status).toBe('active');
    expect(await cache.credentialsOf(t.tenantId, '1001')).toBe(first);
    await updateExtension(store.db, key, t.tenantId, extension.id, { sipPassword: 'two', status: 'disabled' });
    const second = await cache.credentialsOf(t.tenantId, '1001');
    expect(second?.status).toBe('disabled');
    expect(second?.ha1Md5).not.toBe(first?.ha1Md5);
  });

  it('finds the tenant by domain, else the fallback tenant, and expires entries after the TTL', async () => {
    const t = await openTestStoreWithTenant();
    store = t.store;
    const clock = new FakeClock(0);
    const cache = new DirectoryCache({ db: store.db, clock, ttlMs: 1000 });
    expect((await cache.tenantFor('acme.test', 'none'))?.id).toBe(t.tenantId);
    expect((await cache.tenantFor('10.0.0.1', t.tenantId))?.id).toBe(t.tenantId);
    expect(await cache.tenantFor('10.0.0.1', 'missing')).toBeUndefined();
    // Another process renames the domain behind our back: seen once the TTL has passed.
    await store.db.updateTable('tenants').set({ sip_domain: 'renamed.test' }).execute();
    expect((await cache.tenantFor('acme.test', 'none'))?.id).toBe(t.tenantId);
    clock.advance(1000);
    expect(await cache.tenantFor('acme.test', 'none')).toBeUndefined();
  });

  it('preloads every extension in one query', async () => {
    const t = await openTestStoreWithTenant();
    store = t.store;
    await createExtension(store.db, testSecretKey(), { tenantId: t.tenantId, number: '1001' });
    const cache = new DirectoryCache({ db: store.db, clock: new FakeClock(0) });
    expect(await cache.preload()).toBe(1);
    // Removed behind the store's back (no counter bump): still served, so it came from the preload.
    await store.db.deleteFrom('extensions').execute();
    expect((await cache.credentialsOf(t.tenantId, '1001'))?.number).toBe('1001');
  });
});
