import { createHash, randomBytes } from 'node:crypto';
import { SwitchboardError } from '../../shared/errors.js';
import { uuidv7 } from '../../shared/ids.js';
import { inTransaction, nowIso, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import type { ApiKeyTable } from './api-key.table.js';

/** An API key's metadata; the key itself exists only in the creator's hands. */
export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  keyHint: string;
  scopes: string[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

/** Where a key stands at an instant; a revocation scheduled for later (rotation grace) is still active. */
export type ApiKeyStatus = 'active' | 'expired' | 'revoked';

/** The status of `key` at `now` (ISO text compares in time order: every stored instant is UTC `…Z`). */
export function apiKeyStatus(key: Pick<ApiKey, 'expiresAt' | 'revokedAt'>, now = nowIso()): ApiKeyStatus {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return 'active';
}

/** `sk_live_` + 48 hex characters (product.md §2 item 2). */
export function generateApiKey(): string {
  return `sk_live_${randomBytes(24).toString('hex')}`;
}

/**
 * SHA-256 hex of a key. A fast hash suffices (unlike passwords) because keys carry 192 random
 * bits, and it keeps the per-request lookup a single indexed equality.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function toApiKey(row: ApiKeyTable): ApiKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    keyHint: row.key_hint,
    scopes: JSON.parse(row.scopes) as string[],
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
  };
}

/**
 * Stores a new key (generated unless `key` is given, e.g. the bootstrap key from the env) and
 * returns it once alongside its metadata; only its hash and last 4 characters are kept.
 */
export async function createApiKey(
  db: Db,
  input: { tenantId: string; name: string; scopes: string[]; expiresAt?: string | null; key?: string },
): Promise<{ apiKey: ApiKey; key: string }> {
  const key = input.key ?? generateApiKey();
  const row: ApiKeyTable = {
    id: uuidv7(),
    tenant_id: input.tenantId,
    name: input.name,
    key_hash: hashApiKey(key),
    key_hint: key.slice(-4),
    scopes: JSON.stringify(input.scopes),
    expires_at: input.expiresAt ?? null,
    last_used_at: null,
    revoked_at: null,
    created_at: nowIso(),
  };
  await withDbErrors('api key', () => db.insertInto('api_keys').values(row).execute());
  return { apiKey: toApiKey(row), key };
}

/**
 * The key presented on a request, if it exists, is not revoked and has not expired at `now`;
 * otherwise undefined, so the caller answers 401 the same way for every failure.
 */
export async function findUsableApiKey(db: Db, key: string, now = nowIso()): Promise<ApiKey | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('key_hash', '=', hashApiKey(key))
    // A revocation time in the future is a rotation's grace period: the key works until then.
    .where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>', now)]))
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return row ? toApiKey(row) : undefined;
}

/** One key of the tenant; `API_KEY_NOT_FOUND` (404) for another tenant's id, so ids do not leak. */
export async function getApiKey(db: Db, tenantId: string, id: string): Promise<ApiKey> {
  const row = await db.selectFrom('api_keys').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('api_key', id);
  return toApiKey(row);
}

/** Sortable columns of {@link pageApiKeys}; a fixed list so callers cannot sort on the hash. */
export type ApiKeySortField = 'created_at' | 'name';

/** A page of a tenant's keys (metadata only), newest first unless `sort` says otherwise. */
export async function pageApiKeys(
  db: Db,
  tenantId: string,
  filter: PageRequest & { sort?: { field: ApiKeySortField; direction: 'asc' | 'desc' } } = {},
): Promise<Page<ApiKey>> {
  const { limit, offset } = pageBounds(filter);
  const sort = filter.sort ?? { field: 'created_at', direction: 'desc' };
  const query = db.selectFrom('api_keys').where('tenant_id', '=', tenantId);
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toApiKey), total: Number(count.n) };
}

/** Renames a key or replaces its scopes; the key itself and its hash never change. */
export async function updateApiKey(
  db: Db,
  tenantId: string,
  id: string,
  patch: { name?: string; scopes?: string[] },
): Promise<ApiKey> {
  const set = {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.scopes !== undefined && { scopes: JSON.stringify(patch.scopes) }),
  };
  if (Object.keys(set).length === 0) return getApiKey(db, tenantId, id);
  const row = await db.updateTable('api_keys').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).returningAll().executeTakeFirst();
  if (!row) throw notFound('api_key', id);
  return toApiKey(row);
}

/** A tenant's keys, newest first (metadata only). */
export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(toApiKey);
}

/** Records use, for the "last used" column admins rely on to retire idle keys. */
export async function touchApiKeyLastUsed(db: Db, id: string, at = nowIso()): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

/**
 * Revokes a key of the tenant at `at`; idempotent (an earlier revocation time is kept). A later
 * one — a rotation's grace period still running — is brought forward to `at`, so "revoke now"
 * always means now.
 */
export async function revokeApiKey(db: Db, tenantId: string, id: string, at = nowIso()): Promise<ApiKey> {
  const existing = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!existing) throw notFound('api_key', id);
  if (existing.revoked_at !== null && existing.revoked_at <= at) return toApiKey(existing);
  const row = await db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toApiKey(row);
}

/**
 * Rotation: a new key with the same name, scopes and expiry, and the old one revoked, atomically,
 * so there is never a moment with neither usable. With `graceSeconds` > 0 the old key's
 * revocation is scheduled that far after `at` (deployments can roll the new key out meanwhile);
 * with 0 (the default) it stops at once. Returns the new key once.
 */
export async function rotateApiKey(
  db: Db,
  tenantId: string,
  id: string,
  at = nowIso(),
  options: { graceSeconds?: number } = {},
): Promise<{ apiKey: ApiKey; key: string; revoked: ApiKey }> {
  const graceMs = Math.max(0, Math.trunc((options.graceSeconds ?? 0) * 1000));
  const revokeAt = graceMs === 0 ? at : new Date(Date.parse(at) + graceMs).toISOString();
  return inTransaction(db, async (trx) => {
    // A revoked key (or one already rotated, its revocation pending) has a successor or was meant
    // to die: rotating it again would bring a dead credential back to life under a new secret.
    const current = await getApiKey(trx, tenantId, id);
    if (current.revokedAt !== null) {
      throw new SwitchboardError('API_KEY_REVOKED', `api key ${id} is revoked or already rotated`, { httpStatus: 409 });
    }
    // The successor inherits the expiry, so an expired key's successor would be born dead.
    if (current.expiresAt !== null && current.expiresAt <= at) {
      throw new SwitchboardError('API_KEY_EXPIRED', `api key ${id} has expired; create a new one`, { httpStatus: 409 });
    }
    const old = await revokeApiKey(trx, tenantId, id, revokeAt);
    const created = await createApiKey(trx, { tenantId, name: old.name, scopes: old.scopes, expiresAt: old.expiresAt });
    return { ...created, revoked: old };
  });
}
