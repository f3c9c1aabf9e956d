import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findUsableApiKey } from './api-keys/api-key.repository.js';
import type { Store } from './database.js';
import { findDigestCredentials } from './extensions/extension.repository.js';
import { seedFirstStart } from './seed.js';
import { listTenants } from './tenants/tenant.repository.js';
import { openTestStore, testSecretKey } from './test-helpers.js';

describe('seedFirstStart', () => {
  let store: Store;
  beforeEach(async () => {
    store = await openTestStore();
  });
  afterEach(() => store.close());

  it('seeds a demo tenant, 1001 and 1002 and a generated admin key on an empty database', async () => {
    const r = await seedFirstStart(store.db, { secretKey: testSecretKey(), sipDomain: 'pbx.example.com' });
    expect(r).toBeDefined();
    expect(r!.tenant).toMatchObject({ sip_domain: 'pbx.example.com', realm: 'pbx.example.com' });
    expect(r!.extensions.map((e) => e.number)).toEqual(['1001', '1002']);
    expect(r!.extensions[0]!.sipPassword).not.toBe(r!.extensions[1]!.sipPassword);
    expect(r!.apiKeyGenerated).toBe(true);
    expect(r!.apiKey).toMatch(/^sk_live_[0-9a-f]{48}$/);
    expect((await findUsableApiKey(store.db, r!.apiKey))?.scopes).toEqual(['admin']);
    expect(await findDigestCredentials(store.db, r!.tenant.id, '1001')).toBeDefined();
  });

  it('uses the bootstrap key when given, and does nothing on a later start', async () => {
    const key = `sk_live_${'ab'.repeat(24)}`;
    const first = await seedFirstStart(store.db, { secretKey: testSecretKey(), sipDomain: 'switchboard.local', bootstrapApiKey: key });
    expect(first).toMatchObject({ apiKey: key, apiKeyGenerated: false });
    expect(await findUsableApiKey(store.db, key)).toBeDefined();
    expect(await seedFirstStart(store.db, { secretKey: testSecretKey(), sipDomain: 'other.local' })).toBeUndefined();
    expect((await listTenants(store.db)).total).toBe(1);
  });
});
