import { CompiledQuery, sql, type Kysely } from 'kysely';
import { uuid } from '../../shared/ids.js';
import { fromDbBool, inTransaction, nowIso, pageBounds, toDbBool, type Database, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import { decryptSecret, encryptSecret } from '../secrets.js';
import type { BreakerState, WebhookTable } from './webhook.table.js';

/**
 * Webhook endpoints. The store keeps what it is given: URL safety, filter and header validation
 * happen in events/webhooks (called by the API at creation and by the dispatcher at delivery).
 * Reads never return the secret; only {@link getWebhookSecret} decrypts it, for signing. Custom
 * header values are secrets too (receivers' auth tokens): reads return the header names only, and
 * {@link getWebhookHeaders} decrypts the values, for signing.
 */
export interface Webhook {
  id: string;
  tenantId: string;
  name: string;
  url: string;
  events: string[];
  /** Names of the custom headers, as given; their values only through {@link getWebhookHeaders}. */
  headerNames: string[];
  retryCount: number;
  timeoutMs: number;
  enabled: boolean;
  breaker: { state: BreakerState; consecutiveFailures: number; pausedUntil: string | null };
  createdAt: string;
  updatedAt: string;
}

/** Settable fields (the breaker is the dispatcher's: {@link setWebhookBreaker}). */
export interface WebhookFields {
  name?: string;
  url?: string;
  events?: string[];
  headers?: Record<string, string>;
  retryCount?: number;
  timeoutMs?: number;
  enabled?: boolean;
}

export const DEFAULT_RETRY_COUNT = 3;
export const DEFAULT_TIMEOUT_MS = 5000;

/** Every column but the secret, so lists neither read nor copy it (header values are read but only their names kept). */
const COLUMNS = [
  'id', 'tenant_id', 'name', 'url', 'events', 'headers', 'headers_enc', 'retry_count', 'timeout_ms', 'enabled',
  'breaker_state', 'consecutive_failures', 'paused_until', 'created_at', 'updated_at',
] as const satisfies readonly (keyof WebhookTable)[];
type WebhookRow = Pick<WebhookTable, (typeof COLUMNS)[number]>;

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    headerNames: headerNamesOf(row),
    retryCount: row.retry_count,
    timeoutMs: row.timeout_ms,
    enabled: fromDbBool(row.enabled),
    breaker: { state: row.breaker_state, consecutiveFailures: row.consecutive_failures, pausedUntil: row.paused_until },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Ciphertexts by header name (`headers_enc`) and values written before 0010 and not yet upgraded (`headers`). */
type StoredHeaders = { encrypted: Record<string, string>; legacy: Record<string, string> };
const storedHeaders = (row: Pick<WebhookTable, 'headers' | 'headers_enc'>): StoredHeaders => ({
  encrypted: JSON.parse(row.headers_enc) as Record<string, string>,
  legacy: JSON.parse(row.headers) as Record<string, string>,
});

function headerNamesOf(row: Pick<WebhookTable, 'headers' | 'headers_enc'>): string[] {
  const { encrypted, legacy } = storedHeaders(row);
  return [...new Set([...Object.keys(legacy), ...Object.keys(encrypted)])];
}

/** AAD of one header value: bound to its endpoint and name, so a ciphertext moved to another row or header fails to decrypt. */
const headerAad = (id: string, name: string): string => `webhook-header:${id}:${name.toLowerCase()}`;

/** The `headers_enc` text of a header set; the plain column is emptied alongside. */
function encryptHeaders(secretKey: Buffer, id: string, headers: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, encryptSecret(secretKey, value, headerAad(id, name))])));
}

function columns(f: WebhookFields, secretKey: Buffer, id: string): Partial<WebhookTable> {
  return {
    ...(f.name !== undefined && { name: f.name }),
    ...(f.url !== undefined && { url: f.url }),
    ...(f.events !== undefined && { events: JSON.stringify(f.events) }),
    ...(f.headers !== undefined && { headers: '{}', headers_enc: encryptHeaders(secretKey, id, f.headers) }),
    ...(f.retryCount !== undefined && { retry_count: f.retryCount }),
    ...(f.timeoutMs !== undefined && { timeout_ms: f.timeoutMs }),
    ...(f.enabled !== undefined && { enabled: toDbBool(f.enabled) }),
  };
}

/** The newest event's sequence (0 for none), as SQL: where a new or re-enabled endpoint's cursor starts. */
const newestOutboxSequence = sql<number>`(select coalesce(max(sequence), 0) from outbox_events)`;

/** Creates an endpoint with its secret encrypted (AAD = the row id, so it cannot be moved to another row). */
export async function createWebhook(
  db: Db,
  secretKey: Buffer,
  input: WebhookFields & { tenantId: string; name: string; url: string; events: string[]; secret: string },
): Promise<Webhook> {
  const id = uuid();
  const now = nowIso();
  const row: WebhookTable = {
    id,
    tenant_id: input.tenantId,
    name: input.name,
    url: input.url,
    events: '[]',
    secret_enc: encryptSecret(secretKey, input.secret, `webhook:${id}`),
    headers: '{}',
    headers_enc: '{}',
    retry_count: DEFAULT_RETRY_COUNT,
    timeout_ms: DEFAULT_TIMEOUT_MS,
    enabled: 1,
    breaker_state: 'closed',
    consecutive_failures: 0,
    paused_until: null,
    created_at: now,
    updated_at: now,
    ...columns(input, secretKey, id),
  };
  await withDbErrors('webhook', () => db.insertInto('webhooks').values(row).execute());
  // Events from now on: what was in the outbox before the endpoint existed is not sent to it.
  await db.insertInto('webhook_cursors').values({ webhook_id: id, sequence: newestOutboxSequence }).execute();
  return toWebhook(row);
}

/** The endpoint within its tenant, or `WEBHOOK_NOT_FOUND`. */
export async function getWebhook(db: Db, tenantId: string, id: string): Promise<Webhook> {
  const row = await db.selectFrom('webhooks').select(COLUMNS).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('webhook', id);
  return toWebhook(row);
}

/** A page of a tenant's endpoints, oldest first. */
export async function listWebhooks(db: Db, tenantId: string, page: PageRequest & { enabled?: boolean } = {}): Promise<Page<Webhook>> {
  const { limit, offset } = pageBounds(page);
  let query = db.selectFrom('webhooks').where('tenant_id', '=', tenantId);
  if (page.enabled !== undefined) query = query.where('enabled', '=', toDbBool(page.enabled));
  const [rows, count] = await Promise.all([
    query.select(COLUMNS).orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toWebhook), total: Number(count.n) };
}

/** Updates fields; `secret` replaces the signing secret (rotation), `headers` the whole header set. */
export async function updateWebhook(db: Db, secretKey: Buffer, tenantId: string, id: string, patch: WebhookFields & { secret?: string }): Promise<Webhook> {
  if (patch.enabled === true) {
    // Enabled again: events from now on (what happened while it was disabled is not sent to it).
    await sql`update webhook_cursors set sequence = ${newestOutboxSequence}
      where webhook_id = ${id} and exists (select 1 from webhooks w where w.id = ${id} and w.tenant_id = ${tenantId} and w.enabled = 0)`.execute(db);
  }
  const row = await withDbErrors('webhook', () =>
    db
      .updateTable('webhooks')
      .set({
        ...columns(patch, secretKey, id),
        ...(patch.secret !== undefined && { secret_enc: encryptSecret(secretKey, patch.secret, `webhook:${id}`) }),
        updated_at: nowIso(),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returning(COLUMNS)
      .executeTakeFirst(),
  );
  if (!row) throw notFound('webhook', id);
  return toWebhook(row);
}

/** Deletes an endpoint and (cascade) its delivery log. */
export async function deleteWebhook(db: Db, tenantId: string, id: string): Promise<void> {
  const result = await db.deleteFrom('webhooks').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('webhook', id);
}

/** The signing secret in clear, for the dispatcher (and the test-event sender) only. */
export async function getWebhookSecret(db: Db, secretKey: Buffer, tenantId: string, id: string): Promise<string> {
  const row = await db.selectFrom('webhooks').select('secret_enc').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('webhook', id);
  return decryptSecret(secretKey, row.secret_enc, `webhook:${id}`);
}

/**
 * The custom headers in clear (name → value), for signing a delivery: the dispatcher and the
 * test-event sender only; never for an API answer. A value that no longer decrypts (the secret key
 * was replaced) throws `SECRET_DECRYPT_FAILED`, like {@link getWebhookSecret}.
 */
export async function getWebhookHeaders(db: Db, secretKey: Buffer, tenantId: string, id: string): Promise<Record<string, string>> {
  const row = await db.selectFrom('webhooks').select(['headers', 'headers_enc']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('webhook', id);
  return decryptHeaders(secretKey, id, row);
}

function decryptHeaders(secretKey: Buffer, id: string, row: Pick<WebhookTable, 'headers' | 'headers_enc'>): Record<string, string> {
  const { encrypted, legacy } = storedHeaders(row);
  const decrypted = Object.fromEntries(Object.entries(encrypted).map(([name, enc]) => [name, decryptSecret(secretKey, enc, headerAad(id, name))]));
  return { ...legacy, ...decrypted };
}

/** An endpoint as a delivery needs it; `secret` and `customHeaders` are undefined when they no longer decrypt (the secret key was replaced). */
export interface WebhookForDelivery {
  webhook: Webhook;
  secret: string | undefined;
  customHeaders: Record<string, string> | undefined;
  /** Its stored outbox cursor (`webhook_cursors`; 0 without one): the last sequence of its tenant it has handled. */
  cursor: number;
}

type Decrypted = Pick<WebhookForDelivery, 'secret' | 'customHeaders'>;
/**
 * What the endpoints' stored ciphertexts decrypted to, per secret key: the dispatcher reads an
 * endpoint for every page, and at low rates a page is one event (two AES-GCM decryptions per event
 * and endpoint). Keyed by the ciphertexts themselves: a rotation or a header edit writes new ones
 * (a fresh IV each time), so a changed secret is never served from here. Bounded.
 */
const decryptedByKey = new WeakMap<Buffer, Map<string, Decrypted>>();
const DECRYPTED_MAX = 1000;

function decryptForDelivery(secretKey: Buffer, id: string, row: Pick<WebhookTable, 'secret_enc' | 'headers' | 'headers_enc'>): Decrypted {
  let cache = decryptedByKey.get(secretKey);
  if (!cache) decryptedByKey.set(secretKey, (cache = new Map()));
  const key = `${id}\n${row.secret_enc}\n${row.headers_enc}\n${row.headers}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const orUndefined = <T>(decrypt: () => T): T | undefined => {
    try {
      return decrypt();
    } catch {
      return undefined;
    }
  };
  const decrypted = { secret: orUndefined(() => decryptSecret(secretKey, row.secret_enc, `webhook:${id}`)), customHeaders: orUndefined(() => decryptHeaders(secretKey, id, row)) };
  if (cache.size >= DECRYPTED_MAX) cache.clear();
  cache.set(key, decrypted);
  return decrypted;
}

// Written out rather than built with Kysely: building this 18-column join took ~60 µs a call, four
// times the query itself, and the dispatcher makes it for every page (one event at low rates).
const FOR_DELIVERY_SQL = `select ${COLUMNS.map((c) => `w.${c}`).join(', ')}, w.secret_enc, c.sequence as cursor
  from webhooks w left join webhook_cursors c on c.webhook_id = w.id where w.tenant_id = ? and w.id = ?`;

/**
 * The endpoint, its signing secret and custom headers in clear, and its stored cursor, in one
 * read: the dispatcher reads them for every page it sends (separate reads per page were most of its
 * store work at low rates, where a page is one event). Undefined when the endpoint is gone.
 */
export async function getWebhookForDelivery(db: Db, secretKey: Buffer, tenantId: string, id: string): Promise<WebhookForDelivery | undefined> {
  const result = await db.executeQuery<WebhookRow & Pick<WebhookTable, 'secret_enc'> & { cursor: number | null }>(CompiledQuery.raw(FOR_DELIVERY_SQL, [tenantId, id]));
  const row = result.rows[0];
  if (!row) return undefined;
  return { webhook: toWebhook(row), ...decryptForDelivery(secretKey, id, row), cursor: row.cursor ?? 0 };
}

/**
 * Encrypts header values stored in clear before migration 0010 (which has no secret key to do it):
 * run once at start, after migrating, outside any transaction. Idempotent; returns how many
 * endpoints it changed. The clear values should not outlive the upgrade in the file either: the
 * rewrite runs with `secure_delete` (the old cell bytes are zeroed, not left in free space), and a
 * truncating checkpoint then moves the pages out of the WAL.
 */
export async function upgradeWebhookHeaders(db: Kysely<Database>, secretKey: Buffer): Promise<number> {
  const rows = await db.selectFrom('webhooks').select(['id', 'headers', 'headers_enc']).where('headers', '!=', '{}').execute();
  if (rows.length === 0) return 0;
  const before = (await sql<{ secure_delete: number }>`PRAGMA secure_delete`.execute(db)).rows[0]?.secure_delete ?? 0;
  await sql`PRAGMA secure_delete = ON`.execute(db);
  try {
    await inTransaction(db, async (trx) => {
      for (const row of rows) {
        const { encrypted, legacy } = storedHeaders(row);
        const merged = { ...JSON.parse(encryptHeaders(secretKey, row.id, legacy)) as Record<string, string>, ...encrypted };
        await trx.updateTable('webhooks').set({ headers: '{}', headers_enc: JSON.stringify(merged) }).where('id', '=', row.id).execute();
      }
    });
  } finally {
    await sql.raw(`PRAGMA secure_delete = ${before ? 'ON' : 'OFF'}`).execute(db);
  }
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
  return rows.length;
}

/** The dispatcher's record of an endpoint's health (shown read-only by the API). */
export async function setWebhookBreaker(
  db: Db,
  id: string,
  breaker: { state: BreakerState; consecutiveFailures: number; pausedUntil: string | null },
): Promise<void> {
  await db
    .updateTable('webhooks')
    .set({ breaker_state: breaker.state, consecutive_failures: breaker.consecutiveFailures, paused_until: breaker.pausedUntil })
    .where('id', '=', id)
    .execute();
}
