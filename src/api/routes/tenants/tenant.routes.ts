import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import {
  appendAudit,
  createTenant,
  createUser,
  deleteTenant,
  findTenantByExternalId,
  getTenant,
  inTransaction,
  listTenants,
  updateTenant,
} from '../../../store/index.js';
import { hashPassword } from '../../auth/password.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { assertManageAll, assertVisible, tenantAccess, tenantNotFound } from './tenant-access.js';
import { userJson } from '../users/user.schemas.js';
import { CreateTenantSchema, CreatedTenantSchema, ExternalIdParams, TenantSchema, UpdateTenantSchema } from './tenant.schemas.js';

const tags = ['Tenants'];
const ListQuery = paginationQuery(['created_at', 'name', 'sip_domain'], 'created_at').extend({
  tenant_external_id: z.string().max(64).optional().openapi({ param: { name: 'tenant_external_id', in: 'query' } }),
});

export const listTenantsRoute = defineRoute({
  method: 'get', path: '/api/v1/tenants', scope: 'voip:read', tags,
  summary: 'List tenants (every tenant for an admin of the primary tenant, else only the caller\'s own)',
  request: { query: ListQuery },
  responses: { 200: jsonResponse(pageSchema(TenantSchema), 'a page of tenants') },
});
export const createTenantRoute = defineRoute({
  method: 'post', path: '/api/v1/tenants', scope: 'admin', tags,
  summary: 'Create a tenant (admins of the primary tenant only), optionally with its first owner',
  request: { body: jsonBody(CreateTenantSchema) },
  responses: { 201: jsonResponse(dataSchema(CreatedTenantSchema), 'created'), ...errorResponses([409]) },
});
export const getTenantRoute = defineRoute({
  method: 'get', path: '/api/v1/tenants/{id}', scope: 'voip:read', tags, summary: 'Get a tenant',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(TenantSchema), 'the tenant'), ...errorResponses([404]) },
});
export const getTenantByExternalIdRoute = defineRoute({
  method: 'get', path: '/api/v1/tenants/by-external-id/{tenant_external_id}', scope: 'voip:read', tags,
  summary: 'Get a tenant by its tenant_external_id',
  request: { params: ExternalIdParams },
  responses: { 200: jsonResponse(dataSchema(TenantSchema), 'the tenant'), ...errorResponses([404]) },
});
export const updateTenantRoute = defineRoute({
  method: 'patch', path: '/api/v1/tenants/{id}', scope: 'admin', tags,
  summary: 'Change a tenant\'s name, SIP domain or external id (the realm is fixed)',
  request: { params: IdParams, body: jsonBody(UpdateTenantSchema) },
  responses: { 200: jsonResponse(dataSchema(TenantSchema), 'updated'), ...errorResponses([404, 409]) },
});
export const deleteTenantRoute = defineRoute({
  method: 'delete', path: '/api/v1/tenants/{id}', scope: 'admin', tags,
  summary: 'Delete a tenant and everything it owns (not the primary tenant)',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([403, 404, 409]) },
});

export function registerTenantRoutes(app: OpenAPIHono<ApiEnv>, { db }: ResourceDeps): void {
  registerRoute(app, listTenantsRoute, async (c) => {
    const q = c.req.valid('query');
    const access = await tenantAccess(c, db);
    const result = await listTenants(db, {
      limit: q.limit,
      offset: q.offset,
      ...(q.sort && { sort: q.sort }),
      ...(q.tenant_external_id !== undefined && { tenantExternalId: q.tenant_external_id }),
      ...(!access.manageAll && { ids: [access.tenantId] }),
    });
    return c.json(page(result.items, q, result.total), 200);
  });

  registerRoute(app, createTenantRoute, async (c) => {
    const body = c.req.valid('json');
    assertManageAll(await tenantAccess(c, db), 'create tenants');
    const passwordHash = body.owner ? await hashPassword(body.owner.password) : undefined;
    const data = await inTransaction(db, async (trx) => {
      const created = await createTenant(trx, {
        name: body.name,
        sipDomain: body.sip_domain,
        ...(body.realm !== undefined && { realm: body.realm }),
        tenantExternalId: body.tenant_external_id ?? null,
      });
      await appendAudit(trx, { ...auditActor(c), action: 'tenant.created', targetType: 'tenant', targetId: created.id, details: { sip_domain: created.sip_domain } });
      if (!body.owner || passwordHash === undefined) return created;
      const owner = await createUser(trx, { tenantId: created.id, email: body.owner.email, name: body.owner.name, role: 'owner', passwordHash });
      await appendAudit(trx, { ...auditActor(c), action: 'user.created', targetType: 'user', targetId: owner.id, details: { email: owner.email, role: owner.role, tenant_id: created.id } });
      return { ...created, owner: userJson(owner) };
    });
    return c.json({ data }, 201);
  });

  registerRoute(app, getTenantRoute, async (c) => {
    const { id } = c.req.valid('param');
    assertVisible(await tenantAccess(c, db), id);
    return c.json({ data: await getTenant(db, id) }, 200);
  });

  registerRoute(app, getTenantByExternalIdRoute, async (c) => {
    const { tenant_external_id: externalId } = c.req.valid('param');
    const access = await tenantAccess(c, db);
    const tenant = await findTenantByExternalId(db, externalId);
    if (!tenant || (!access.manageAll && tenant.id !== access.tenantId)) throw tenantNotFound(externalId);
    return c.json({ data: tenant }, 200);
  });

  registerRoute(app, updateTenantRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    assertVisible(await tenantAccess(c, db), id);
    const tenant = await inTransaction(db, async (trx) => {
      const updated = await updateTenant(trx, id, {
        ...(body.name !== undefined && { name: body.name }),
        ...(body.sip_domain !== undefined && { sipDomain: body.sip_domain }),
        ...(body.tenant_external_id !== undefined && { tenantExternalId: body.tenant_external_id }),
      });
      const fields = Object.keys(body).filter((k) => k !== 'realm');
      await appendAudit(trx, { ...auditActor(c), action: 'tenant.updated', targetType: 'tenant', targetId: id, details: { fields } });
      return updated;
    });
    return c.json({ data: tenant }, 200);
  });

  registerRoute(app, deleteTenantRoute, async (c) => {
    const { id } = c.req.valid('param');
    const access = await tenantAccess(c, db);
    assertVisible(access, id);
    assertManageAll(access, 'delete tenants');
    if (id === access.primaryTenantId) {
      throw new SwitchboardError('PRIMARY_TENANT', 'the primary tenant cannot be deleted', { httpStatus: 409 });
    }
    await inTransaction(db, async (trx) => {
      await deleteTenant(trx, id);
      await appendAudit(trx, { ...auditActor(c), action: 'tenant.deleted', targetType: 'tenant', targetId: id });
    });
    return c.body(null, 204);
  });
}
