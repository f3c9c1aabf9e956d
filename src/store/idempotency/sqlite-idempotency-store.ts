import { createHmac } from 'node:crypto';
import { inTransaction, type Db } from '../database.js';
import { decryptSecret, encryptSecret } from '../secrets.js';

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
 *
 * With `secretKey` (main.ts always passes it) stored responses are AES-256-GCM encrypted with the
 * tenant and key as AAD, and request hashes are HMAC'd: some first responses carry secrets shown
 * once (a new extension's SIP password, a new API key), and request bodies may hold passwords,
 * which must not sit in the database file in clear (issue 3 acceptance: a dump shows no secret).
 */
export class SqliteIdempotencyStore {
  private readonly ttlMs: number;
  private readonly now: () => Date;
  private readonly secretKey: Buffer | undefined;

  constructor(
    private readonly db: Db,
    options: { secretKey?: Buffer; ttlMs?: number; now?: () => Date } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.now = options.now ?? (() => new Date());
    this.secretKey = options.secretKey;
  }

  /** The request hash as stored: keyed, so a hash of a body holding a short password cannot be brute-forced offline. */
  private storedHash(requestHash: string): string {
    return this.secretKey ? createHmac('sha256', this.secretKey).update(requestHash).digest('hex') : requestHash;
  }

  private seal(scope: string, key: string, plain: string): string {
    return this.secretKey ? encryptSecret(this.secretKey, plain, `idempotency:${scope}:${key}`) : plain;
  }

  /** Opens what {@link seal} stored (the same store always seals the same way). */
  private open(scope: string, key: string, stored: string): string {
    return this.secretKey ? decryptSecret(this.secretKey, stored, `idempotency:${scope}:${key}`) : stored;
  }

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
          request_hash: this.storedHash(requestHash),
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
      if (row.request_hash !== this.storedHash(requestHash)) return { state: 'mismatch' } as const;
      if (row.status === IN_PROGRESS) return { state: 'in_progress' } as const;
      const stored = JSON.parse(this.open(scope, key, row.response_body)) as { contentType: string | null; body: string };
      return { state: 'completed', response: { status: row.status, ...stored } } as const;
    });
  }

  async complete(scope: string, key: string, response: StoredIdempotentResponse): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({
        status: response.status,
        response_body: this.seal(scope, key, JSON.stringify({ contentType: response.contentType, body: response.body })),
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
