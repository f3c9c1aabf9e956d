import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { generateWebhookSecret } from '../../../events/webhooks/webhook-secret.js';
import { appendAudit, createWebhook, deleteWebhook, getWebhook, inTransaction, listWebhooks, updateWebhook, type WebhookFields } from '../../../store/index.js';
import { keepBacklogOfDisabled } from '../../../pbx/events/webhook-backlog.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonBody, jsonResponse, noContent } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { headersForCreate, headersForUpdate } from './webhook-headers.js';
import { checkWebhookUrl } from './webhook-url-check.js';
import { CreateWebhookBody, REDACTED_HEADER_VALUE, RotateSecretBody, UpdateWebhookBody, WebhookSchema, webhookView } from './webhook.schemas.js';

const tags = ['Webhooks'];

const ListQuery = paginationQuery(['created_at']).pick({ limit: true, offset: true }).extend({
  enabled: z.enum(['true', 'false']).optional().openapi({ param: { name: 'enabled', in: 'query' } }),
});

export const listWebhooksRoute = defineRoute({
  method: 'get', path: '/api/v1/webhooks', scope: 'voip:read', tags, summary: 'List webhook endpoints (secrets redacted)',
  request: { query: ListQuery },
  responses: { 200: jsonResponse(pageSchema(WebhookSchema), 'a page of webhooks') },
});
export const createWebhookRoute = defineRoute({
  method: 'post', path: '/api/v1/webhooks', scope: 'webhooks:write', tags, summary: 'Create a webhook endpoint',
  description:
    'The answer carries the signing secret this once (given, or generated as `whsec_…`). The URL\'s host is resolved and every address checked (SSRF): refused → 422 naming `url`. ' +
    'Custom header values are stored encrypted and shown redacted from the start; the redaction marker as a value → 422 naming `headers.<name>`.',
  request: { body: jsonBody(CreateWebhookBody) },
  responses: { 201: jsonResponse(dataSchema(WebhookSchema), 'created, with its secret'), ...errorResponses([422]) },
});
export const getWebhookRoute = defineRoute({
  method: 'get', path: '/api/v1/webhooks/{id}', scope: 'voip:read', tags, summary: 'Get a webhook endpoint (secret redacted)',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(WebhookSchema), 'the webhook'), ...errorResponses([404]) },
});
export const updateWebhookRoute = defineRoute({
  method: 'patch', path: '/api/v1/webhooks/{id}', scope: 'webhooks:write', tags, summary: 'Change a webhook endpoint',
  description:
    'Any field but the secret (rotate it with `/rotate-secret`); a new URL is checked like on create. `headers` replaces the whole set; ' +
    `a value of "${REDACTED_HEADER_VALUE}" keeps that header's stored value (422 naming \`headers.<name>\` when it has none).`,
  request: { params: IdParams, body: jsonBody(UpdateWebhookBody) },
  responses: { 200: jsonResponse(dataSchema(WebhookSchema), 'updated'), ...errorResponses([404, 422]) },
});
export const rotateWebhookSecretRoute = defineRoute({
  method: 'post', path: '/api/v1/webhooks/{id}/rotate-secret', scope: 'webhooks:write', tags, summary: 'Replace the signing secret',
  description: 'Given, or generated when the body has none; the answer shows the new secret this once. Deliveries from now on are signed with it.',
  request: { params: IdParams, body: { required: false, content: { 'application/json': { schema: RotateSecretBody } } } },
  responses: { 200: jsonResponse(dataSchema(WebhookSchema), 'rotated, with the new secret'), ...errorResponses([404]) },
});
export const deleteWebhookRoute = defineRoute({
  method: 'delete', path: '/api/v1/webhooks/{id}', scope: 'webhooks:write', tags, summary: 'Delete a webhook endpoint and its delivery log',
  request: { params: IdParams },
  responses: { 204: noContent, ...errorResponses([404]) },
});

type Body = { name?: string | undefined; url?: string | undefined; events?: string[] | undefined; headers?: Record<string, string> | undefined; retry_count?: number | undefined; timeout_ms?: number | undefined; enabled?: boolean | undefined };
function fieldsOf(body: Body): WebhookFields {
  return {
    ...(body.name !== undefined && { name: body.name }),
    ...(body.url !== undefined && { url: body.url }),
    ...(body.events !== undefined && { events: body.events }),
    ...(body.headers !== undefined && { headers: body.headers }),
    ...(body.retry_count !== undefined && { retryCount: body.retry_count }),
    ...(body.timeout_ms !== undefined && { timeoutMs: body.timeout_ms }),
    ...(body.enabled !== undefined && { enabled: body.enabled }),
  };
}

/** The audit entry's view of a change: field names and the URL's host, never the secret or header values. */
const auditDetails = (body: Body, url: string) => ({ host: new URL(url).host, fields: Object.keys(body).filter((k) => k !== 'secret') });

/** CRUD of `/api/v1/webhooks` (issue 5 §3): reads `voip:read`, writes `webhooks:write`. */
export function registerWebhookCrudRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listWebhooksRoute, async (c) => {
    const q = c.req.valid('query');
    const result = await listWebhooks(deps.db, callerTenantId(c), { limit: q.limit, offset: q.offset, ...(q.enabled && { enabled: q.enabled === 'true' }) });
    return c.json(page(result.items.map((w) => webhookView(w)), q, result.total), 200);
  });

  registerRoute(app, createWebhookRoute, async (c) => {
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    headersForCreate(body.headers);
    // DNS before the transaction: no write waits on the network, and a refusal writes nothing.
    await checkWebhookUrl(deps, body.url);
    const secret = body.secret ?? generateWebhookSecret();
    const view = await inTransaction(deps.db, async (trx) => {
      const created = await createWebhook(trx, deps.secretKey, { ...fieldsOf(body), tenantId, name: body.name, url: body.url, events: body.events, secret });
      await appendAudit(trx, { ...auditActor(c), action: 'webhook.created', targetType: 'webhook', targetId: created.id, details: { ...auditDetails(body, body.url), secret_generated: body.secret === undefined } });
      return webhookView(created, secret);
    });
    // The secret is shown once: no cache keeps it, and an Idempotency-Key replay shows it redacted.
    c.header('Cache-Control', 'no-store');
    return c.json({ data: view }, 201);
  });

  registerRoute(app, getWebhookRoute, async (c) => {
    return c.json({ data: webhookView(await getWebhook(deps.db, callerTenantId(c), c.req.valid('param').id)) }, 200);
  });

  registerRoute(app, updateWebhookRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const tenantId = callerTenantId(c);
    await getWebhook(deps.db, tenantId, id); // 404 before any DNS work for another tenant's id
    if (body.url !== undefined) await checkWebhookUrl(deps, body.url);
    const view = await inTransaction(deps.db, async (trx) => {
      const headers = await headersForUpdate(trx, deps.secretKey, tenantId, id, body.headers);
      const wasEnabled = (await getWebhook(trx, tenantId, id)).enabled;
      const updated = await updateWebhook(trx, deps.secretKey, tenantId, id, { ...fieldsOf(body), ...(headers && { headers }) });
      // Disabled: what it was owed so far waits for it (pending deliveries); what happens from now on is not sent to it.
      if (wasEnabled && !updated.enabled) await keepBacklogOfDisabled(trx, updated, new Date(deps.clock.now()).toISOString());
      await appendAudit(trx, { ...auditActor(c), action: 'webhook.updated', targetType: 'webhook', targetId: id, details: auditDetails(body, updated.url) });
      return webhookView(updated);
    });
    return c.json({ data: view }, 200);
  });

  registerRoute(app, rotateWebhookSecretRoute, async (c) => {
    const { id } = c.req.valid('param');
    // The body is optional: an empty POST generates a secret.
    const given = (c.req.valid('json') as { secret?: string } | undefined)?.secret;
    const secret = given ?? generateWebhookSecret();
    const tenantId = callerTenantId(c);
    const view = await inTransaction(deps.db, async (trx) => {
      const updated = await updateWebhook(trx, deps.secretKey, tenantId, id, { secret });
      await appendAudit(trx, { ...auditActor(c), action: 'webhook.secret_rotated', targetType: 'webhook', targetId: id, details: { secret_generated: given === undefined } });
      return webhookView(updated, secret);
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ data: view }, 200);
  });

  registerRoute(app, deleteWebhookRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    await inTransaction(deps.db, async (trx) => {
      const current = await getWebhook(trx, tenantId, id);
      await deleteWebhook(trx, tenantId, id);
      await appendAudit(trx, { ...auditActor(c), action: 'webhook.deleted', targetType: 'webhook', targetId: id, details: { name: current.name, host: new URL(current.url).host } });
    });
    return c.body(null, 204);
  });
}
