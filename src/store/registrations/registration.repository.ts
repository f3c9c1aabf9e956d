import { uuid } from '../../shared/ids.js';
import { inTransaction, nowIso, pageBounds, type Db, type Page, type PageRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import { noteBindingsRemoved } from '../change-version.js';
import type { RegistrationTable } from './registration.table.js';

/** A contact binding as the registrar and the API see it. */
export interface Registration {
  id: string;
  tenantId: string;
  extensionId: string;
  aor: string;
  contactUri: string;
  expiresAt: string;
  userAgent: string | null;
  transport: string;
  sourceAddress: string;
  sourcePort: number;
  connectionId: string | null;
  callId: string;
  cseq: number;
  instanceId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A binding to write; identity is (extension, contact URI) as in RFC 3261 §10.3 step 7. */
export type RegistrationInput = Omit<Registration, 'id' | 'createdAt' | 'updatedAt'>;

function toRegistration(row: RegistrationTable): Registration {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    extensionId: row.extension_id,
    aor: row.aor,
    contactUri: row.contact_uri,
    expiresAt: row.expires_at,
    userAgent: row.user_agent,
    transport: row.transport,
    sourceAddress: row.source_address,
    sourcePort: row.source_port,
    connectionId: row.connection_id,
    callId: row.call_id,
    cseq: row.cseq,
    instanceId: row.instance_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Writes a binding through from the registrar so it survives a restart: inserts it, or refreshes
 * the existing binding for the same contact (new expiry, flow, Call-ID/CSeq) in one statement,
 * keeping its id and creation time.
 */
export async function upsertRegistration(db: Db, input: RegistrationInput, now = nowIso()): Promise<Registration> {
  const changing = {
    aor: input.aor,
    expires_at: input.expiresAt,
    user_agent: input.userAgent,
    transport: input.transport,
    source_address: input.sourceAddress,
    source_port: input.sourcePort,
    connection_id: input.connectionId,
    call_id: input.callId,
    cseq: input.cseq,
    instance_id: input.instanceId,
    updated_at: now,
  };
  const row = await withDbErrors('registration', () =>
    db
      .insertInto('registrations')
      .values({
        ...changing,
        id: uuid(),
        tenant_id: input.tenantId,
        extension_id: input.extensionId,
        contact_uri: input.contactUri,
        created_at: now,
      })
      .onConflict((oc) => oc.columns(['extension_id', 'contact_uri']).doUpdateSet(changing))
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return toRegistration(row);
}

/** Filters for {@link listRegistrations}; expired bindings are hidden unless `now` is null. */
export interface RegistrationFilter extends PageRequest {
  extensionId?: string;
  /** Bindings of the tenant's extension with this number. */
  extensionNumber?: string;
  aor?: string;
  transport?: string;
  now?: string | null;
  /** Default: most recently refreshed first. */
  sort?: { field: 'created_at' | 'updated_at' | 'expires_at'; direction: 'asc' | 'desc' };
}

/** A page of a tenant's live bindings, newest first, with the total matching the filters. */
export async function listRegistrations(
  db: Db,
  tenantId: string,
  filter: RegistrationFilter = {},
): Promise<Page<Registration>> {
  const { limit, offset } = pageBounds(filter);
  const now = filter.now === undefined ? nowIso() : filter.now;
  let query = db.selectFrom('registrations').where('tenant_id', '=', tenantId);
  if (now !== null) query = query.where('expires_at', '>', now);
  if (filter.extensionId !== undefined) query = query.where('extension_id', '=', filter.extensionId);
  if (filter.extensionNumber !== undefined) {
    const number = filter.extensionNumber;
    query = query.where('extension_id', 'in', (eb) =>
      eb.selectFrom('extensions').select('id').where('tenant_id', '=', tenantId).where('number', '=', number),
    );
  }
  if (filter.aor !== undefined) query = query.where('aor', '=', filter.aor);
  if (filter.transport !== undefined) query = query.where('transport', '=', filter.transport);
  const sort = filter.sort ?? { field: 'updated_at', direction: 'desc' };
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toRegistration), total: Number(count.n) };
}

/** One live binding of a tenant, or `REGISTRATION_NOT_FOUND` (also when expired or another tenant's). */
export async function getRegistration(db: Db, tenantId: string, id: string, now = nowIso()): Promise<Registration> {
  const row = await db
    .selectFrom('registrations')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row) throw notFound('registration', id);
  return toRegistration(row);
}

/**
 * Live binding counts of the given extensions in one grouped query (no N+1 for a page of
 * extensions); extensions without bindings are absent from the map.
 */
export async function countLiveRegistrations(
  db: Db,
  tenantId: string,
  extensionIds: readonly string[],
  now = nowIso(),
): Promise<Map<string, number>> {
  if (extensionIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('registrations')
    .select((eb) => ['extension_id', eb.fn.countAll<number>().as('n')])
    .where('tenant_id', '=', tenantId)
    .where('extension_id', 'in', [...new Set(extensionIds)])
    .where('expires_at', '>', now)
    .groupBy('extension_id')
    .execute();
  return new Map(rows.map((r) => [r.extension_id, Number(r.n)]));
}

/** Force-removes one binding by id within a tenant (admin unregister); returns what was removed. */
export async function deleteRegistrationById(db: Db, tenantId: string, id: string): Promise<Registration> {
  const row = await db
    .deleteFrom('registrations')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw notFound('registration', id);
  noteBindingsRemoved(row.extension_id);
  return toRegistration(row);
}

/** Removes one binding (REGISTER with Expires: 0 for that contact); returns whether it existed. */
export async function deleteRegistration(db: Db, extensionId: string, contactUri: string): Promise<boolean> {
  const result = await db
    .deleteFrom('registrations')
    .where('extension_id', '=', extensionId)
    .where('contact_uri', '=', contactUri)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Removes all of an extension's bindings (API: disabled or deleted extension, new credentials);
 * returns the removed rows, expired ones included, so the caller can report them (audit, events).
 */
export async function deleteRegistrationsOfExtension(db: Db, extensionId: string): Promise<Registration[]> {
  const rows = await db.deleteFrom('registrations').where('extension_id', '=', extensionId).returningAll().execute();
  noteBindingsRemoved(extensionId);
  return rows.map(toRegistration);
}

/** Sweeps bindings that expired at or before `now`; run periodically and at start. */
export async function deleteExpiredRegistrations(db: Db, now = nowIso()): Promise<number> {
  const result = await db.deleteFrom('registrations').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Every binding of one extension, expired ones included (the registrar's resync after an API removal). */
export async function loadRegistrationsOfExtension(db: Db, extensionId: string): Promise<Registration[]> {
  const rows = await db.selectFrom('registrations').selectAll().where('extension_id', '=', extensionId).execute();
  return rows.map(toRegistration);
}

/**
 * Every live binding of every tenant, for the registrar to reload its location service at start
 * (issue 3: bindings survive a restart).
 */
export async function loadLiveRegistrations(db: Db, now = nowIso()): Promise<Registration[]> {
  const rows = await db.selectFrom('registrations').selectAll().where('expires_at', '>', now).orderBy('created_at').execute();
  return rows.map(toRegistration);
}

/** One change the registrar writes through; see {@link applyRegistrationChanges}. */
export type RegistrationChange =
  | { kind: 'upsert'; registration: Registration }
  | { kind: 'delete'; extensionId: string; contactUri: string }
  | { kind: 'delete-extension'; extensionId: string };

/** Rows per multi-row INSERT: 16 columns × 500 stays far below SQLite's 32 766 variables. */
const UPSERT_CHUNK = 500;

/**
 * Applies the registrar's binding changes in order, in one transaction: the registrar batches the
 * changes of many REGISTERs into one commit (one fsync under `synchronous=FULL`) instead of one
 * per statement, and consecutive upserts go out as multi-row statements (each statement is
 * prepared anew, which profiles showed costing more than running it). An upsert keeps the stored
 * row's id and creation time when the contact exists.
 */
export async function applyRegistrationChanges(db: Db, changes: readonly RegistrationChange[]): Promise<void> {
  if (changes.length === 0) return;
  await withDbErrors('registration', () =>
    inTransaction(db, async (trx) => {
      let run: Registration[] = [];
      const flush = async (): Promise<void> => {
        for (let i = 0; i < run.length; i += UPSERT_CHUNK) await upsertRows(trx, run.slice(i, i + UPSERT_CHUNK));
        run = [];
      };
      for (const c of changes) {
        if (c.kind === 'upsert') {
          run.push(c.registration);
          continue;
        }
        await flush();
        if (c.kind === 'delete') {
          await trx.deleteFrom('registrations').where('extension_id', '=', c.extensionId).where('contact_uri', '=', c.contactUri).execute();
        } else {
          await trx.deleteFrom('registrations').where('extension_id', '=', c.extensionId).execute();
        }
      }
      await flush();
    }),
  );
}

/** One INSERT … ON CONFLICT DO UPDATE for many rows; later rows for the same contact win. */
async function upsertRows(db: Db, rows: readonly Registration[]): Promise<void> {
  await db
    .insertInto('registrations')
    .values(
      rows.map((r) => ({
        id: r.id, tenant_id: r.tenantId, extension_id: r.extensionId, aor: r.aor, contact_uri: r.contactUri,
        expires_at: r.expiresAt, user_agent: r.userAgent, transport: r.transport, source_address: r.sourceAddress,
        source_port: r.sourcePort, connection_id: r.connectionId, call_id: r.callId, cseq: r.cseq,
        instance_id: r.instanceId, created_at: r.createdAt, updated_at: r.updatedAt,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['extension_id', 'contact_uri']).doUpdateSet((eb) => ({
        aor: eb.ref('excluded.aor'), expires_at: eb.ref('excluded.expires_at'), user_agent: eb.ref('excluded.user_agent'),
        transport: eb.ref('excluded.transport'), source_address: eb.ref('excluded.source_address'),
        source_port: eb.ref('excluded.source_port'), connection_id: eb.ref('excluded.connection_id'),
        call_id: eb.ref('excluded.call_id'), cseq: eb.ref('excluded.cseq'), instance_id: eb.ref('excluded.instance_id'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}
