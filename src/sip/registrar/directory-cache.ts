/**
 * Cached lookups the registrar makes for every REGISTER: the tenant of a domain and an
 * extension's digest credentials (found or not — scanners ask for unknown users at high rates).
 * An entry is used while the store's change counter for its table is unchanged (an API change
 * takes effect on the next request) and for at most `ttlMs` (writes from another process, which
 * the in-process counter cannot see).
 */
import type { Clock } from '../../shared/clock.js';
import {
  findDigestCredentials,
  findTenant,
  findTenantBySipDomain,
  listAllDigestCredentials,
  storeVersion,
  type Db,
  type DigestCredentials,
  type Tenant,
  type VersionedTable,
} from '../../store/index.js';

interface Entry<T> {
  value: T;
  version: number;
  at: number;
}

/** A bounded map of entries valid for one store version of `table` and `ttlMs`. */
class VersionedCache<T> {
  private readonly map = new Map<string, Entry<T>>();

  constructor(
    private readonly table: VersionedTable,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly capacity: number,
  ) {}

  /** The cached value, or `load()`'s, stored under the version read before the load started. */
  async get(key: string, load: () => Promise<T>): Promise<T> {
    const version = storeVersion(this.table);
    const hit = this.map.get(key);
    if (hit && hit.version === version && this.clock.now() - hit.at < this.ttlMs) return hit.value;
    const value = await load();
    this.put(key, value, version);
    return value;
  }

  /** Store `value` as read under `version` (read the version before the query). */
  put(key: string, value: T, version: number): void {
    if (this.map.size >= this.capacity && !this.map.has(key)) this.map.delete(this.map.keys().next().value as string);
    this.map.set(key, { value, version, at: this.clock.now() });
  }
}

/** Options of {@link DirectoryCache}. */
export interface DirectoryCacheOptions {
  db: Db;
  clock: Clock;
  /** Longest use of an entry, for writes the change counter cannot see (default 30 000 ms). */
  ttlMs?: number;
  /** Most credential entries kept (default 200 000); the oldest go first. */
  capacity?: number;
}

/** The registrar's tenant and credential lookups, cached. */
export class DirectoryCache {
  private readonly db: Db;
  private readonly tenantsByDomain: VersionedCache<Tenant | undefined>;
  private readonly tenantsById: VersionedCache<Tenant | undefined>;
  private readonly credentials: VersionedCache<DigestCredentials | undefined>;
  private readonly capacity: number;

  constructor(options: DirectoryCacheOptions) {
    this.db = options.db;
    const ttl = options.ttlMs ?? 30_000;
    const capacity = options.capacity ?? 200_000;
    this.capacity = capacity;
    this.tenantsByDomain = new VersionedCache('tenants', options.clock, ttl, 10_000);
    this.tenantsById = new VersionedCache('tenants', options.clock, ttl, 10_000);
    this.credentials = new VersionedCache('extensions', options.clock, ttl, capacity);
  }

  /** The tenant owning `domain`, else the tenant `fallbackId` (requests to the PBX's address). */
  async tenantFor(domain: string, fallbackId: string): Promise<Tenant | undefined> {
    const byDomain = await this.tenantsByDomain.get(domain, () => findTenantBySipDomain(this.db, domain));
    return byDomain ?? this.tenantsById.get(fallbackId, () => findTenant(this.db, fallbackId));
  }

  /** Load every extension's credentials in one query (at start, before the re-registration storm). */
  async preload(): Promise<number> {
    const version = storeVersion('extensions');
    const all = await listAllDigestCredentials(this.db);
    for (const c of all.slice(0, this.capacity)) this.credentials.put(`${c.tenantId}\n${c.number}`, c, version);
    return all.length;
  }

  /** Digest credentials of `number` in the tenant, or undefined for an unknown number. */
  credentialsOf(tenantId: string, number: string): Promise<DigestCredentials | undefined> {
    return this.credentials.get(`${tenantId}\n${number}`, () => findDigestCredentials(this.db, tenantId, number));
  }
}
