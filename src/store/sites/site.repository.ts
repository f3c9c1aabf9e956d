import { uuid } from '../../shared/ids.js';
import { nowIso, pageBounds, type Db, type Page, type PageRequest, type SortRequest } from '../database.js';
import { notFound, withDbErrors } from '../db-errors.js';
import type { SiteTable } from './site.table.js';

/** A site (a tenant's location; the seeds' "store"). */
export interface Site {
  id: string;
  tenantId: string;
  name: string;
  storeId: string | null;
  address: string | null;
  timezone: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Settable fields of a site. */
export interface SiteFields {
  name?: string;
  storeId?: string | null;
  address?: string | null;
  timezone?: string | null;
}

function toSite(row: SiteTable): Site {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    storeId: row.store_id,
    address: row.address,
    timezone: row.timezone,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function columns(f: SiteFields): Partial<SiteTable> {
  return {
    ...(f.name !== undefined && { name: f.name }),
    ...(f.storeId !== undefined && { store_id: f.storeId }),
    ...(f.address !== undefined && { address: f.address }),
    ...(f.timezone !== undefined && { timezone: f.timezone }),
  };
}

/** Creates a site; a `storeId` already used in the tenant raises `CONFLICT`. */
export async function createSite(db: Db, input: SiteFields & { tenantId: string; name: string }): Promise<Site> {
  const now = nowIso();
  const row: SiteTable = {
    id: uuid(),
    tenant_id: input.tenantId,
    name: input.name,
    store_id: null,
    address: null,
    timezone: null,
    created_at: now,
    updated_at: now,
    ...columns(input),
  };
  await withDbErrors('site', () => db.insertInto('sites').values(row).execute());
  return toSite(row);
}

/** The site within its tenant, or `SITE_NOT_FOUND`. */
export async function getSite(db: Db, tenantId: string, id: string): Promise<Site> {
  const row = await db.selectFrom('sites').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('site', id);
  return toSite(row);
}

/** The site an integrator knows by its store id (store sync upserts by it). */
export async function findSiteByStoreId(db: Db, tenantId: string, storeId: string): Promise<Site | undefined> {
  const row = await db
    .selectFrom('sites')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('store_id', '=', storeId)
    .executeTakeFirst();
  return row ? toSite(row) : undefined;
}

/** A page of a tenant's sites, by name unless another sort is asked for. */
export async function listSites(
  db: Db,
  tenantId: string,
  page: PageRequest & { sort?: SortRequest<'name' | 'store_id' | 'created_at'> } = {},
): Promise<Page<Site>> {
  const { limit, offset } = pageBounds(page);
  const query = db.selectFrom('sites').where('tenant_id', '=', tenantId);
  const sort = page.sort ?? { field: 'name', direction: 'asc' };
  const [rows, count] = await Promise.all([
    query.selectAll().orderBy(sort.field, sort.direction).orderBy('id').limit(limit).offset(offset).execute(),
    query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toSite), total: Number(count.n) };
}

/** Updates a site's fields. */
export async function updateSite(db: Db, tenantId: string, id: string, patch: SiteFields): Promise<Site> {
  const row = await withDbErrors('site', () =>
    db
      .updateTable('sites')
      .set({ ...columns(patch), updated_at: nowIso() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst(),
  );
  if (!row) throw notFound('site', id);
  return toSite(row);
}

/** Deletes a site; its extensions stay, with no site (`ON DELETE SET NULL`). */
export async function deleteSite(db: Db, tenantId: string, id: string): Promise<void> {
  const result = await db.deleteFrom('sites').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (result.numDeletedRows === 0n) throw notFound('site', id);
}
