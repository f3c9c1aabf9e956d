import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  appendAudit,
  createExtension,
  deleteExtension,
  getExtension,
  inTransaction,
  listExtensions,
  ringGroupNumbersWithMember,
  updateExtension,
} from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema } from '../../pagination.js';
import { cachedJson } from '../../read-cache.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { removeBindings, wakeEventReaders, type BindingRemoval } from './binding-removal.js';
import {
  CreateExtensionBody,
  ExtensionSchema,
  ExtensionWithPasswordSchema,
  ListExtensionsQuery,
  UpdateExtensionBody,
} from './extension.schemas.js';
import {
  changedFields,
  checkSite,
  extensionFields,
  extensionViewOf,
  extensionViews,
  nowIsoOf,
  registerWithFieldErrors,
  tenantIdOf,
  withNumberConflict,
} from './extension.view.js';

const tags = ['Extensions'];

export const listExtensionsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/extensions',
  scope: 'voip:read',
  tags,
  summary: 'List extensions',
  description: 'Filters: `status`, `site_id`, `q` (number prefix), `number` (exact). Each item carries its live registration summary.',
  request: { query: ListExtensionsQuery },
  responses: { 200: jsonResponse(pageSchema(ExtensionSchema), 'a page of extensions') },
});

export const createExtensionRoute = defineRoute({
  method: 'post',
  path: '/api/v1/extensions',
  scope: 'extensions:write',
  tags,
  summary: 'Create an extension',
  description:
    'Without `sip_password` a strong one is generated. The answer carries the SIP password this once ' +
    '(later only through the credentials endpoint) and `sip_username`/`sip_domain`/`realm`, enough to configure a phone.',
  request: { body: jsonBody(CreateExtensionBody) },
  responses: {
    201: jsonResponse(dataSchema(ExtensionWithPasswordSchema), 'created'),
    ...errorResponses([409, 422]),
  },
});

export const getExtensionRoute = defineRoute({
  method: 'get',
  path: '/api/v1/extensions/{id}',
  scope: 'voip:read',
  tags,
  summary: 'Get an extension',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(ExtensionSchema), 'the extension'), ...errorResponses([404]) },
});

export const updateExtensionRoute = defineRoute({
  method: 'patch',
  path: '/api/v1/extensions/{id}',
  scope: 'extensions:write',
  tags,
  summary: 'Update an extension',
  description:
    'Any field. `forward` is merged field by field (`null` clears a target). A new `sip_password` or `number` ' +
    'recomputes the digest HA1 values; a new password or number, or `status: disabled`, removes the live ' +
    'registrations at once, so phones must register again with the new credentials.',
  request: { params: IdParams, body: jsonBody(UpdateExtensionBody) },
  responses: { 200: jsonResponse(dataSchema(ExtensionSchema), 'updated'), ...errorResponses([404, 409, 422]) },
});

export const deleteExtensionRoute = defineRoute({
  method: 'delete',
  path: '/api/v1/extensions/{id}',
  scope: 'extensions:write',
  tags,
  summary: 'Delete an extension and its registrations',
  description: 'The extension also leaves every ring group it was a member of (the groups keep ringing the others); the audit entry lists them.',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404]) },
});

/** CRUD of `/api/v1/extensions`; credentials, status and registrations live in their own files. */
export function registerExtensionCrudRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerWithFieldErrors(app, listExtensionsRoute, async (c) => {
    const q = c.req.valid('query');
    const tenantId = tenantIdOf(c);
    // The hottest read of the API: answered from the read cache while no write happened (≤ 1 s old).
    return cachedJson(c, deps.readCache, { tenantId, route: 'GET /api/v1/extensions' }, async () => {
      const result = await listExtensions(deps.db, tenantId, {
        limit: q.limit,
        offset: q.offset,
        ...(q.sort && { sort: q.sort }),
        ...(q.status && { status: q.status }),
        ...(q.site_id && { siteId: q.site_id }),
        ...(q.q && { numberPrefix: q.q }),
        ...(q.number && { number: q.number }),
      });
      const views = await extensionViews(deps.db, tenantId, result.items, nowIsoOf(deps));
      return page(views, q, result.total);
    });
  });

  registerWithFieldErrors(app, createExtensionRoute, async (c) => {
    const body = c.req.valid('json');
    const tenantId = tenantIdOf(c);
    const created = await inTransaction(deps.db, async (trx) => {
      await checkSite(trx, tenantId, body.site_id);
      const { extension, sipPassword } = await withNumberConflict(body.number, () =>
        createExtension(trx, deps.secretKey, {
          tenantId,
          number: body.number,
          ...(body.sip_password !== undefined && { sipPassword: body.sip_password }),
          ...extensionFields(body),
        }),
      );
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'extension.created',
        targetType: 'extension',
        targetId: extension.id,
        // Field names and whether the password was generated; never the password itself.
        details: { number: extension.number, fields: changedFields(body), sip_password_generated: body.sip_password === undefined },
      });
      const view = await extensionViewOf(trx, tenantId, extension, nowIsoOf(deps));
      return { ...view, sip_password: sipPassword };
    });
    return c.json({ data: created }, 201);
  });

  registerWithFieldErrors(app, getExtensionRoute, async (c) => {
    const tenantId = tenantIdOf(c);
    const extension = await getExtension(deps.db, tenantId, c.req.valid('param').id);
    return c.json({ data: await extensionViewOf(deps.db, tenantId, extension, nowIsoOf(deps)) }, 200);
  });

  registerWithFieldErrors(app, updateExtensionRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenantId = tenantIdOf(c);
    let removal: BindingRemoval | undefined;
    const view = await inTransaction(deps.db, async (trx) => {
      const current = await getExtension(trx, tenantId, id);
      await checkSite(trx, tenantId, body.site_id);
      const updated = await withNumberConflict(body.number, () =>
        updateExtension(trx, deps.secretKey, tenantId, id, {
          ...extensionFields(body, current.forward),
          ...(body.number !== undefined && { number: body.number }),
          ...(body.sip_password !== undefined && { sipPassword: body.sip_password }),
        }),
      );
      // The registrar reads the store on every REGISTER (no cache), so new credentials and status
      // apply to the next request; bindings made with the old ones are removed here, in the same
      // transaction, so no call is routed to a phone that could no longer register (their events too).
      const credentialsChanged = body.sip_password !== undefined || updated.number !== current.number;
      removal = updated.status === 'disabled' || credentialsChanged ? await removeBindings(trx, c, deps, { extensionId: id }) : undefined;
      const bindingsRemoved = removal?.removed.length ?? 0;
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'extension.updated',
        targetType: 'extension',
        targetId: id,
        details: {
          number: updated.number,
          fields: changedFields(body),
          ...(updated.number !== current.number && { previous_number: current.number }),
          ...(updated.status !== current.status && { status: updated.status }),
          bindings_removed: bindingsRemoved,
        },
      });
      return extensionViewOf(trx, tenantId, updated, nowIsoOf(deps));
    });
    wakeEventReaders(deps, removal);
    return c.json({ data: view }, 200);
  });

  registerWithFieldErrors(app, deleteExtensionRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = tenantIdOf(c);
    const removal = await inTransaction(deps.db, async (trx) => {
      const current = await getExtension(trx, tenantId, id);
      // Explicit rather than left to the foreign-key cascade, so the audit entry can say how many
      // and each live binding's end is an event (the extension reads unregistered before it goes).
      const result = await removeBindings(trx, c, deps, { extensionId: id });
      const bindingsRemoved = result.removed.length;
      // The extension leaves its ring groups (cascade; the groups ring the others): say which.
      const ringGroupsLeft = await ringGroupNumbersWithMember(trx, tenantId, id);
      await deleteExtension(trx, tenantId, id);
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'extension.deleted',
        targetType: 'extension',
        targetId: id,
        details: { number: current.number, bindings_removed: bindingsRemoved, ring_groups_left: ringGroupsLeft },
      });
      return result;
    });
    wakeEventReaders(deps, removal);
    return c.body(null, 204);
  });
}
