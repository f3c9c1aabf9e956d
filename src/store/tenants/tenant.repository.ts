import { uuid } from '../../shared/ids.js';
import { SwitchboardError } from '../../shared/errors.js';
import { nowIso, pageBounds, type Db, type Page, type PageRequest, type SortRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import { bumpStoreVersion, noteBindingsRemoved } from '../change-version.js';
import type { TenantTable } from './tenant.table.js';

/** A tenant as the rest of the app sees it (the row is already flat and typed). */
export type Tenant = TenantTable;

const EXTERNAL_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkExternalId(value: string | null | undefined): void {
  if (value != null && !EXTERNAL_ID.test(value)) {
    throw new SwitchboardError('VALIDATION_ERROR', 'tenant_external_id may hold only letters, digits, - and _', {
      httpStatus: 422,
    });
  }
}

/** Input for {@link createTenant}; `realm` defaults to the SIP domain, as most phones expect. */
export interface NewTenant {
  name: string;
  sipDomain: string;
  realm?: string;
  tenantExternalId?: string | null;
}

/** Creates a tenant; a taken SIP domain or external id raises `CONFLICT`. */
export async function createTenant(db: Db, input: NewTenant): Promise<Tenant> {
  checkExternalId(input.tenantExternalId);
  const now = nowIso();
  const row: TenantTable = {
    id: uuid(),
    name: input.name,
    sip_domain: input.sipDomain.toLowerCase(),
    realm: input.realm ?? input.sipDomain.toLowerCase(),
    tenant_external_id: input.tenantExternalId ?? null,
    created_at: now,
    updated_at: now,
  };
  await withDbErrors('tenant', () => db.insertInto('tenants').values(row).execute());
  bumpStoreVersion('tenants');
  return row;
}

/** The tenant, or undefined. */
export async function findTenant(db: Db, id: string): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The tenant, or `TENANT_NOT_FOUND`. */
export async function getTenant(db: Db, id: string): Promise<Tenant> {
  const tenant = await findTenant(db, id);
  if (!tenant) throw notFound('tenant', id);
  return tenant;
}

/**
 * The primary tenant: the first one created (the seeded demo tenant, or the one setup names). Its
 * admins manage every tenant, and it can never be deleted.
 */
export async function findPrimaryTenant(db: Db): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().orderBy('created_at').orderBy('id').limit(1).executeTakeFirst();
}

/** The tenant an integrator knows by its `tenant_external_id`, or undefined. */
export async function findTenantByExternalId(db: Db, tenantExternalId: string): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().where('tenant_external_id', '=', tenantExternalId).executeTakeFirst();
}

/** The tenant owning a SIP domain; how the registrar maps a request's host to a tenant. */
export async function findTenantBySipDomain(db: Db, sipDomain: string): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().where('sip_domain', '=', sipDomain.toLowerCase()).executeTakeFirst();
}

/** Filters for {@link listTenants}. */
export interface TenantFilter extends PageRequest {
  tenantExternalId?: string;
  nameContains?: string;
  /** Restricts the list to these ids (a caller who may see only its own tenant). */
  ids?: string[];
  sort?: SortRequest<'name' | 'created_at' | 'sip_domain'>;
}

/** A page of tenants ordered by creation, plus the total matching the filters. */
export async function listTenants(db: Db, filter: TenantFilter = {}): Promise<Page<Tenant>> {
  const { limit, offset } = pageBounds(filter);
  let query = db.selectFrom('tenants');
  if (filter.tenantExternalId !== undefined) query = query.where('tenant_external_id', '=', filter.tenantExternalId);
  if (filter.nameContains !== undefined) query = query.where('name', 'like', `%${filter.nameContains}%`);
  if (filter.ids !== undefined) query = query.where('id', 'in', filter.ids.length ? filter.ids : ['']);
  const sort = filter.sort ?? { field: 'created_at', direction: 'asc' };
  const [items, count] = await Promise.all([
    query.selectAll().orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(count.n) };
}

/**
 * Changes name, SIP domain or external id. The realm is fixed after creation because every
 * extension's HA1 is computed over it; changing it would silently break all registrations.
 */
export async function updateTenant(
  db: Db,
  id: string,
  patch: { name?: string; sipDomain?: string; tenantExternalId?: string | null },
): Promise<Tenant> {
  checkExternalId(patch.tenantExternalId);
  const result = await withDbErrors('tenant', () =>
    db
      .updateTable('tenants')
      .set({
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.sipDomain !== undefined && { sip_domain: patch.sipDomain.toLowerCase() }),
        ...(patch.tenantExternalId !== undefined && { tenant_external_id: patch.tenantExternalId }),
        updated_at: nowIso(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst(),
  );
  bumpStoreVersion('tenants');
  if (!result) throw notFound('tenant', id);
  return result;
}

/** Deletes a tenant and (by cascade) everything it owns. */
export async function deleteTenant(db: Db, id: string): Promise<void> {
  const result = await db.deleteFrom('tenants').where('id', '=', id).executeTakeFirst();
  // The cascade took the tenant's extensions with it.
  bumpStoreVersion('tenants');
  bumpStoreVersion('extensions');
  noteBindingsRemoved('all');
  if (result.numDeletedRows === 0n) throw notFound('tenant', id);
}
