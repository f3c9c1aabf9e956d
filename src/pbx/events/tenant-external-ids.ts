import type { Clock } from '../../shared/clock.js';
import { getTenant, type Db } from '../../store/index.js';

/**
 * Every envelope carries the tenant's `tenant_external_id`; looking it up per event would add a
 * query to every call state change, so it is cached per tenant for `ttlMs` (an integrator who
 * renames it sees the new value within that window).
 */
export class TenantExternalIds {
  private readonly cache = new Map<string, { value: string | null; until: number }>();

  constructor(private readonly clock: Clock, private readonly ttlMs = 60_000) {}

  /** The external id, read through `db` (pass the open transaction when inside one). Null for an unknown tenant. */
  async get(db: Db, tenantId: string): Promise<string | null> {
    const now = this.clock.now();
    const hit = this.cache.get(tenantId);
    if (hit && hit.until > now) return hit.value;
    const value = await getTenant(db, tenantId).then((t) => t.tenant_external_id, () => null);
    this.cache.set(tenantId, { value, until: now + this.ttlMs });
    return value;
  }
}
