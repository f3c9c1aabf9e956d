import { inTransaction, type Db } from '../database.js';

/**
 * The API's idempotency port (src/api/ports.ts), restated here because the store may not import
 * the API; TypeScript's structural typing makes this class satisfy the port as it is.
 */
export interface StoredIdempotentResponse {
  status: number;
  contentType: string | null;
  body: string;
}
export type IdempotencyClaimResult =
  | { state: 'claimed' }
  | { state: 'in_progress' }
  | { state: 'mismatch' }
  | { state: 'completed'; response: StoredIdempotentResponse };

/** `status` of a row whose request is still running (no real HTTP status is 0). */
const IN_PROGRESS = 0;

/**
 * The API's `IdempotencyStore` over the store's `idempotency_keys` table, so replays survive a restart
 * (the in-memory store forgets them). The row's primary key (tenant, key) makes `claim` atomic:
 * the insert-or-nothing inside a transaction lets exactly one concurrent caller win. A claimed row
 * holds status 0 until `complete`. The table has no content-type column, so the response body is
 * stored as JSON `{ contentType, body }`; `method`/`path` stay empty because the request hash
 * already covers them. Rows older than `ttlMs` count as absent (the usual 24 h replay window).
 */
export class SqliteIdempotencyStore {
  constructor(
    private readonly db: Db,
    private readonly ttlMs = 24 * 60 * 60 * 1000,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async claim(scope: string, key: string, requestHash: string): Promise<IdempotencyClaimResult> {
    const now = this.now();
    const cutoff = new Date(now.getTime() - this.ttlMs).toISOString();
    return inTransaction(this.db, async (trx) => {
      await trx
        .deleteFrom('idempotency_keys')
        .where('tenant_id', '=', scope)
        .where('key', '=', key)
        .where('created_at', '<', cutoff)
        .execute();
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({
          tenant_id: scope,
          key,
          method: '',
          path: '',
          request_hash: requestHash,
          status: IN_PROGRESS,
          response_body: '',
          created_at: now.toISOString(),
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) return { state: 'claimed' } as const;
      const row = await trx
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'status', 'response_body'])
        .where('tenant_id', '=', scope)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      if (row.request_hash !== requestHash) return { state: 'mismatch' } as const;
      if (row.status === IN_PROGRESS) return { state: 'in_progress' } as const;
      const stored = JSON.parse(row.response_body) as { contentType: string | null; body: string };
      return { state: 'completed', response: { status: row.status, ...stored } } as const;
    });
  }

  async complete(scope: string, key: string, response: StoredIdempotentResponse): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({
        status: response.status,
        response_body: JSON.stringify({ contentType: response.contentType, body: response.body }),
      })
      .where('tenant_id', '=', scope)
      .where('key', '=', key)
      .execute();
  }

  async release(scope: string, key: string): Promise<void> {
    await this.db
      .deleteFrom('idempotency_keys')
      .where('tenant_id', '=', scope)
      .where('key', '=', key)
      .where('status', '=', IN_PROGRESS)
      .execute();
  }
}
