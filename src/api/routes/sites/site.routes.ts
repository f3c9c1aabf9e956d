import type { OpenAPIHono } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import {
  appendAudit,
  createSite,
  deleteSite,
  findSiteByStoreId,
  getSite,
  inTransaction,
  listSites,
  updateSite,
  type SiteFields,
} from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { CreateSiteSchema, SiteSchema, StoreIdParams, UpdateSiteSchema, siteJson } from './site.schemas.js';

const tags = ['Sites'];

export const listSitesRoute = defineRoute({
  method: 'get', path: '/api/v1/sites', scope: 'stores:read', tags, summary: 'List the tenant\'s sites (stores)',
  request: { query: paginationQuery(['name', 'store_id', 'created_at'], 'name') },
  responses: { 200: jsonResponse(pageSchema(SiteSchema), 'a page of sites') },
});
export const createSiteRoute = defineRoute({
  method: 'post', path: '/api/v1/sites', scope: 'stores:sync', tags, summary: 'Create a site',
  request: { body: jsonBody(CreateSiteSchema) },
  responses: { 201: jsonResponse(dataSchema(SiteSchema), 'created'), ...errorResponses([409]) },
});
export const getSiteRoute = defineRoute({
  method: 'get', path: '/api/v1/sites/{id}', scope: 'stores:read', tags, summary: 'Get a site',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(SiteSchema), 'the site'), ...errorResponses([404]) },
});
export const getSiteByStoreIdRoute = defineRoute({
  method: 'get', path: '/api/v1/sites/by-store-id/{store_id}', scope: 'stores:read', tags,
  summary: 'Get a site by the integrator\'s store_id',
  request: { params: StoreIdParams },
  responses: { 200: jsonResponse(dataSchema(SiteSchema), 'the site'), ...errorResponses([404]) },
});
export const updateSiteRoute = defineRoute({
  method: 'patch', path: '/api/v1/sites/{id}', scope: 'stores:sync', tags, summary: 'Change a site',
  request: { params: IdParams, body: jsonBody(UpdateSiteSchema) },
  responses: { 200: jsonResponse(dataSchema(SiteSchema), 'updated'), ...errorResponses([404, 409]) },
});
export const deleteSiteRoute = defineRoute({
  method: 'delete', path: '/api/v1/sites/{id}', scope: 'stores:sync', tags,
  summary: 'Delete a site (its extensions stay, without a site)',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404]) },
});

/** A taken store_id gets a message that says which field clashed, instead of the store's generic one. */
async function storeIdUnique<T>(storeId: string | null | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof SwitchboardError && err.code === 'CONFLICT' && storeId) {
      throw new SwitchboardError('CONFLICT', `store_id ${storeId} is already used by another site`, { httpStatus: 409, cause: err });
    }
    throw err;
  }
}

function fieldsOf(body: { name?: string | undefined; store_id?: string | null | undefined; address?: string | null | undefined; timezone?: string | null | undefined }): SiteFields {
  return {
    ...(body.name !== undefined && { name: body.name }),
    ...(body.store_id !== undefined && { storeId: body.store_id }),
    ...(body.address !== undefined && { address: body.address }),
    ...(body.timezone !== undefined && { timezone: body.timezone }),
  };
}

export function registerSiteRoutes(app: OpenAPIHono<ApiEnv>, { db }: ResourceDeps): void {
  registerRoute(app, listSitesRoute, async (c) => {
    const q = c.req.valid('query');
    const result = await listSites(db, callerTenantId(c), { limit: q.limit, offset: q.offset, ...(q.sort && { sort: q.sort }) });
    return c.json(page(result.items.map(siteJson), q, result.total), 200);
  });

  registerRoute(app, createSiteRoute, async (c) => {
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    const site = await storeIdUnique(body.store_id, () =>
      inTransaction(db, async (trx) => {
        const created = await createSite(trx, { ...fieldsOf(body), tenantId, name: body.name });
        await appendAudit(trx, { ...auditActor(c), action: 'site.created', targetType: 'site', targetId: created.id, details: { store_id: created.storeId } });
        return created;
      }),
    );
    return c.json({ data: siteJson(site) }, 201);
  });

  registerRoute(app, getSiteRoute, async (c) => {
    const { id } = c.req.valid('param');
    return c.json({ data: siteJson(await getSite(db, callerTenantId(c), id)) }, 200);
  });

  registerRoute(app, getSiteByStoreIdRoute, async (c) => {
    const { store_id: storeId } = c.req.valid('param');
    const site = await findSiteByStoreId(db, callerTenantId(c), storeId);
    if (!site) throw new SwitchboardError('SITE_NOT_FOUND', `no site with store_id ${storeId}`, { httpStatus: 404 });
    return c.json({ data: siteJson(site) }, 200);
  });

  registerRoute(app, updateSiteRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    const site = await storeIdUnique(body.store_id, () =>
      inTransaction(db, async (trx) => {
        const updated = await updateSite(trx, tenantId, id, fieldsOf(body));
        await appendAudit(trx, { ...auditActor(c), action: 'site.updated', targetType: 'site', targetId: id, details: { fields: Object.keys(body) } });
        return updated;
      }),
    );
    return c.json({ data: siteJson(site) }, 200);
  });

  registerRoute(app, deleteSiteRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    await inTransaction(db, async (trx) => {
      await deleteSite(trx, tenantId, id);
      await appendAudit(trx, { ...auditActor(c), action: 'site.deleted', targetType: 'site', targetId: id });
    });
    return c.body(null, 204);
  });
}
