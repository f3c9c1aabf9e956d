import { createHash, randomBytes } from 'node:crypto';
import { uuid } from '../../shared/ids.js';
import { inTransaction, nowIso, type Db } from '../database.js';
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
    id: uuid(),
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
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
  return row ? toApiKey(row) : undefined;
}

/** A tenant's keys, newest first (metadata only). */
export async function listApiKeys(db: Db, tenantId: string): Promise<ApiKey[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toApiKey);
}

/** Records use, for the "last used" column admins rely on to retire idle keys. */
export async function touchApiKeyLastUsed(db: Db, id: string, at = nowIso()): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}

/** Revokes a key of the tenant; idempotent (the first revocation time is kept). */
export async function revokeApiKey(db: Db, tenantId: string, id: string, at = nowIso()): Promise<ApiKey> {
  const existing = await db
    .selectFrom('api_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!existing) throw notFound('api_key', id);
  if (existing.revoked_at !== null) return toApiKey(existing);
  const row = await db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toApiKey(row);
}

/**
 * Rotation: a new key with the same name, scopes and expiry, and the old one revoked, atomically,
 * so there is never a moment with both usable or neither. Returns the new key once.
 */
export async function rotateApiKey(
  db: Db,
  tenantId: string,
  id: string,
  at = nowIso(),
): Promise<{ apiKey: ApiKey; key: string; revoked: ApiKey }> {
  return inTransaction(db, async (trx) => {
    const old = await revokeApiKey(trx, tenantId, id, at);
    const created = await createApiKey(trx, { tenantId, name: old.name, scopes: old.scopes, expiresAt: old.expiresAt });
    return { ...created, revoked: old };
  });
}
