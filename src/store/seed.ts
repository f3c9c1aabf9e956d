import { createApiKey } from './api-keys/api-key.repository.js';
import { inTransaction, type Db } from './database.js';
import { createExtension } from './extensions/extension.repository.js';
import { createTenant, type Tenant } from './tenants/tenant.repository.js';

/** Numbers of the demo extensions created on first start. */
export const DEMO_EXTENSIONS = ['1001', '1002'] as const;

/** What the first start created; the clear-text values exist only here, to be shown once. */
export interface SeedResult {
  tenant: Tenant;
  extensions: Array<{ number: string; sipPassword: string }>;
  /** The admin key in clear text: the bootstrap key, or a generated one. */
  apiKey: string;
  /** True when `apiKey` was generated here (so the banner must show it; a bootstrap key is known). */
  apiKeyGenerated: boolean;
}

/** Input for {@link seedFirstStart}. */
export interface SeedOptions {
  /** AES-256 key for the extensions' SIP passwords at rest. */
  secretKey: Buffer;
  /** SIP domain (and realm) of the demo tenant. */
  sipDomain: string;
  /** `SWITCHBOARD_BOOTSTRAP_API_KEY`, if set. */
  bootstrapApiKey?: string | undefined;
}

/**
 * First-start seeding (issue 3, start-up contract): when no tenant exists yet, creates a demo
 * tenant, extensions 1001 and 1002 with generated SIP passwords and an `admin` API key, all in one
 * transaction so a crash mid-way leaves nothing half-seeded for the next start to skip. Returns
 * undefined on every later start (any tenant present), so restarts never reseed or rotate keys.
 */
export async function seedFirstStart(db: Db, opts: SeedOptions): Promise<SeedResult | undefined> {
  return inTransaction(db, async (trx) => {
    const existing = await trx.selectFrom('tenants').select('id').limit(1).executeTakeFirst();
    if (existing) return undefined;
    const tenant = await createTenant(trx, { name: 'Demo', sipDomain: opts.sipDomain, realm: opts.sipDomain });
    const extensions: SeedResult['extensions'] = [];
    for (const number of DEMO_EXTENSIONS) {
      const { sipPassword } = await createExtension(trx, opts.secretKey, { tenantId: tenant.id, number, displayName: `Demo ${number}` });
      extensions.push({ number, sipPassword });
    }
    const { key } = await createApiKey(trx, {
      tenantId: tenant.id,
      name: 'bootstrap admin key',
      scopes: ['admin'],
      ...(opts.bootstrapApiKey !== undefined ? { key: opts.bootstrapApiKey } : {}),
    });
    return { tenant, extensions, apiKey: key, apiKeyGenerated: opts.bootstrapApiKey === undefined };
  });
}
