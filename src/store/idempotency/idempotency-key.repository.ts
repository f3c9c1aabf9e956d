import { nowIso, type Db } from '../database.js';
import { withDbErrors } from '../db-errors.js';

/** The stored first response to a mutating request with an `Idempotency-Key` (product.md §3). */
export interface IdempotentResponse {
  tenantId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  status: number;
  responseBody: string;
  createdAt: string;
}

/** The stored response for a tenant's key, to replay on retry (the API compares `requestHash`). */
export async function getIdempotentResponse(db: Db, tenantId: string, key: string): Promise<IdempotentResponse | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('key', '=', key)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    tenantId: row.tenant_id,
    key: row.key,
    method: row.method,
    path: row.path,
    requestHash: row.request_hash,
    status: row.status,
    responseBody: row.response_body,
    createdAt: row.created_at,
  };
}

/**
 * Records the first response for a key. A second put for the same key raises `CONFLICT` (two
 * concurrent requests raced; the loser must not overwrite the winner's response). Store it in the
 * same transaction as the change so a replay never reports a change that rolled back.
 */
export async function putIdempotentResponse(
  db: Db,
  entry: Omit<IdempotentResponse, 'createdAt'>,
  now = nowIso(),
): Promise<void> {
  await withDbErrors('idempotency key', () =>
    db
      .insertInto('idempotency_keys')
      .values({
        tenant_id: entry.tenantId,
        key: entry.key,
        method: entry.method,
        path: entry.path,
        request_hash: entry.requestHash,
        status: entry.status,
        response_body: entry.responseBody,
        created_at: now,
      })
      .execute(),
  );
}

/** Drops keys older than `before` (keys are kept for a retry window, e.g. 24 h); returns how many. */
export async function deleteIdempotencyKeysBefore(db: Db, before: string): Promise<number> {
  const result = await db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
  return Number(result.numDeletedRows);
}
