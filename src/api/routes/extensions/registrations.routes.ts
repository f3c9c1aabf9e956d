import type { OpenAPIHono } from '@hono/zod-openapi';
import {
  appendAudit,
  extensionNumbers,
  getExtension,
  getRegistration,
  inTransaction,
  listRegistrations,
  type Db,
  type Registration,
} from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses } from '../../route-registry.js';
import { IdParams, dataSchema, jsonResponse, noContent } from '../../schemas.js';
import { nowIsoOf, registerWithFieldErrors, tenantIdOf } from './extension.view.js';
import { cachedJson } from '../../read-cache.js';
import { removeBindings, wakeEventReaders } from './binding-removal.js';
import {
  ExtensionRegistrationsQuery,
  ExtensionStatusSchema,
  ListRegistrationsQuery,
  RegistrationSchema,
  contactStatus,
  registrationView,
  type RegistrationView,
} from './registration.schemas.js';

const tags = ['Registrations'];

export const listRegistrationsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/registrations',
  scope: 'voip:read',
  tags,
  summary: 'List live registrations',
  description: 'Unexpired contact bindings of the tenant. Filters: `extension_id`, `number` (extension number), `transport`.',
  request: { query: ListRegistrationsQuery },
  responses: { 200: jsonResponse(pageSchema(RegistrationSchema), 'a page of registrations') },
});

export const getRegistrationRoute = defineRoute({
  method: 'get',
  path: '/api/v1/registrations/{id}',
  scope: 'voip:read',
  tags,
  summary: 'Get a live registration',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(RegistrationSchema), 'the registration'), ...errorResponses([404]) },
});

export const deleteRegistrationRoute = defineRoute({
  method: 'delete',
  path: '/api/v1/registrations/{id}',
  scope: 'extensions:write',
  tags,
  summary: 'Force-unregister one binding',
  description:
    'Removes the binding at once; the phone registers again on its next refresh if its credentials still work. ' +
    'Writes `registration.expired` (reason `removed`) and the `extension.status` it causes (unregistered when it was the last live binding) with the removal.',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404]) },
});

export const listExtensionRegistrationsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/extensions/{id}/registrations',
  scope: 'voip:read',
  tags,
  summary: "List an extension's live registrations",
  request: { params: IdParams, query: ExtensionRegistrationsQuery },
  responses: { 200: jsonResponse(pageSchema(RegistrationSchema), 'a page of registrations'), ...errorResponses([404]) },
});

export const extensionStatusRoute = defineRoute({
  method: 'get',
  path: '/api/v1/extensions/{id}/status',
  scope: 'voip:read',
  tags: ['Extensions'],
  summary: "An extension's live status",
  description: 'Registered or not, and each contact with its address, transport, connection type (`sip`/`wss`), user agent and last refresh.',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(ExtensionStatusSchema), 'the status'), ...errorResponses([404]) },
});

/** Views of a page of bindings: one extra query for the extension numbers of the whole page. */
async function views(db: Db, tenantId: string, items: Registration[], deps: ResourceDeps): Promise<RegistrationView[]> {
  const numbers = await extensionNumbers(
    db,
    tenantId,
    items.map((r) => r.extensionId),
  );
  const nowMs = deps.clock.now();
  return items.map((r) => registrationView(r, numbers.get(r.extensionId) ?? '', nowMs, deps.sip));
}

/** `/api/v1/registrations`, an extension's registrations and its status. */
export function registerRegistrationRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerWithFieldErrors(app, listRegistrationsRoute, async (c) => {
    const q = c.req.valid('query');
    const tenantId = tenantIdOf(c);
    // Through the read cache: expiries and qualify results may show up to 1 s late (read-cache.ts).
    return cachedJson(c, deps.readCache, { tenantId, route: 'GET /api/v1/registrations' }, async () => {
      const result = await listRegistrations(deps.db, tenantId, {
        limit: q.limit,
        offset: q.offset,
        now: nowIsoOf(deps),
        ...(q.sort && { sort: q.sort }),
        ...(q.extension_id && { extensionId: q.extension_id }),
        ...(q.number && { extensionNumber: q.number }),
        ...(q.transport && { transport: q.transport }),
      });
      return page(await views(deps.db, tenantId, result.items, deps), q, result.total);
    });
  });

  registerWithFieldErrors(app, getRegistrationRoute, async (c) => {
    const tenantId = tenantIdOf(c);
    const registration = await getRegistration(deps.db, tenantId, c.req.valid('param').id, nowIsoOf(deps));
    const { number } = await getExtension(deps.db, tenantId, registration.extensionId);
    return c.json({ data: registrationView(registration, number, deps.clock.now(), deps.sip) }, 200);
  });

  registerWithFieldErrors(app, deleteRegistrationRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = tenantIdOf(c);
    const removal = await inTransaction(deps.db, async (trx) => {
      // Expired bindings are invisible to the API (they only wait for the sweep), so they are 404 here too.
      await getRegistration(trx, tenantId, id, nowIsoOf(deps));
      // registration.expired (reason removed) and extension.status are written with the delete.
      const result = await removeBindings(trx, c, deps, { registrationId: id, tenantId });
      const removed = result.removed[0]!;
      await appendAudit(trx, {
        ...auditActor(c),
        action: 'registration.deleted',
        targetType: 'registration',
        targetId: id,
        details: {
          extension_id: removed.extensionId,
          aor: removed.aor,
          contact_uri: removed.contactUri,
          source: `${removed.sourceAddress}:${removed.sourcePort}`,
        },
      });
      return result;
    });
    wakeEventReaders(deps, removal);
    return c.body(null, 204);
  });

  registerWithFieldErrors(app, listExtensionRegistrationsRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const tenantId = tenantIdOf(c);
    await getExtension(deps.db, tenantId, id);
    const result = await listRegistrations(deps.db, tenantId, {
      limit: q.limit,
      offset: q.offset,
      now: nowIsoOf(deps),
      extensionId: id,
      ...(q.sort && { sort: q.sort }),
    });
    return c.json(page(await views(deps.db, tenantId, result.items, deps), q, result.total), 200);
  });

  registerWithFieldErrors(app, extensionStatusRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = tenantIdOf(c);
    const extension = await getExtension(deps.db, tenantId, id);
    // The registrar keeps at most a handful of contacts per AOR (default 5), so one page holds them all.
    const bindings = await listRegistrations(deps.db, tenantId, { extensionId: id, now: nowIsoOf(deps), limit: 100 });
    const contacts = bindings.items.map((r) => contactStatus(r, deps.sip));
    return c.json(
      {
        data: {
          extension_id: extension.id,
          number: extension.number,
          status: extension.status,
          dnd: extension.dnd,
          registered: contacts.length > 0,
          contacts,
          last_seen: contacts[0]?.last_seen ?? null,
        },
      },
      200,
    );
  });
}
