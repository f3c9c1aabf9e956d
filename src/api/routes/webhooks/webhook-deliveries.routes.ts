import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { makeEvent } from '../../../events/envelope.js';
import { filterMatches } from '../../../events/event-types.js';
import { attemptDelivery } from '../../../events/webhooks/deliver.js';
import { signedHeaders } from '../../../events/webhooks/signing.js';
import { uuid } from '../../../shared/ids.js';
import {
  appendAudit,
  createDelivery,
  getTenant,
  getWebhook,
  getWebhookBacklog,
  getWebhookHeaders,
  getWebhookSecret,
  inTransaction,
  listDeliveries,
  recordDeliveryAttempt,
} from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import { page, pageSchema, paginationQuery } from '../../pagination.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { IdParams, dataSchema, jsonResponse } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { DeliverySchema, deliveryView } from './webhook.schemas.js';

const tags = ['Webhooks'];

const DeliveriesQuery = paginationQuery(['created_at']).pick({ limit: true, offset: true }).extend({
  status: z.enum(['pending', 'delivered', 'failed']).optional().openapi({ param: { name: 'status', in: 'query' } }),
});

export const listDeliveriesRoute = defineRoute({
  method: 'get', path: '/api/v1/webhooks/{id}/deliveries', scope: 'voip:read', tags, summary: 'The endpoint\'s delivery log, newest first',
  description: 'Status, attempts, last HTTP status, response excerpt (≤ 1 KB) and timings of each event sent to this endpoint.',
  request: { params: IdParams, query: DeliveriesQuery },
  responses: { 200: jsonResponse(pageSchema(DeliverySchema), 'a page of deliveries'), ...errorResponses([404]) },
});

export const testWebhookRoute = defineRoute({
  method: 'post', path: '/api/v1/webhooks/{id}/test', scope: 'webhooks:write', tags, summary: 'Send a signed webhook.test event now',
  description:
    'Signs and POSTs one `webhook.test` event to the endpoint (whatever its filter, even when disabled), with the same ' +
    'SSRF checks, headers and signatures as real deliveries and a single attempt, and records it in the delivery log. ' +
    'The answer is that delivery: `status` delivered or failed, with the receiver\'s status code and answer excerpt.',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(DeliverySchema), 'the recorded attempt'), ...errorResponses([404]) },
});

/** Events counted past an endpoint's cursor at most (a down endpoint's backlog can be a day of events). */
const BACKLOG_COUNT_LIMIT = 10_000;

const BacklogSchema = z
  .object({
    pending_deliveries: z.number().int().openapi({ description: 'Deliveries waiting for an attempt: retries, redeliveries, and what the endpoint was owed when it was disabled.' }),
    events_waiting: z.number().int().openapi({ description: 'Events its filter wants that happened since its last delivery and have not been attempted yet (counted up to 10,000). 0 while it is disabled: those are not sent to it.' }),
    events_waiting_capped: z.boolean().openapi({ description: 'True when more events wait than were counted.' }),
  })
  .openapi('WebhookBacklog');

export const webhookBacklogRoute = defineRoute({
  method: 'get', path: '/api/v1/webhooks/{id}/backlog', scope: 'voip:read', tags, summary: 'What the endpoint is owed and not sent yet',
  description:
    'Events are delivered to each endpoint in order, one at a time; a delivery log row is written with an event\'s first ' +
    'attempt. This shows what waits before that: pending deliveries, and events not attempted yet.',
  request: { params: IdParams },
  responses: { 200: jsonResponse(dataSchema(BacklogSchema), 'the backlog'), ...errorResponses([404]) },
});

/** The delivery log, the backlog and the test event of `/api/v1/webhooks/{id}`. */
export function registerWebhookDeliveryRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, listDeliveriesRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const tenantId = callerTenantId(c);
    await getWebhook(deps.db, tenantId, id);
    const result = await listDeliveries(deps.db, tenantId, id, { limit: q.limit, offset: q.offset, ...(q.status && { status: q.status }) });
    return c.json(page(result.items.map(deliveryView), q, result.total), 200);
  });

  registerRoute(app, webhookBacklogRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    const webhook = await getWebhook(deps.db, tenantId, id);
    const backlog = await getWebhookBacklog(deps.db, tenantId, id, BACKLOG_COUNT_LIMIT);
    const waiting = webhook.enabled ? backlog.typesPastCursor.filter((type) => filterMatches(webhook.events, type)).length : 0;
    return c.json({ data: { pending_deliveries: backlog.pending, events_waiting: waiting, events_waiting_capped: webhook.enabled && backlog.more } }, 200);
  });

  registerRoute(app, testWebhookRoute, async (c) => {
    const { id } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    const webhook = await getWebhook(deps.db, tenantId, id);
    const [secret, customHeaders, tenant] = await Promise.all([
      getWebhookSecret(deps.db, deps.secretKey, tenantId, id),
      getWebhookHeaders(deps.db, deps.secretKey, tenantId, id),
      getTenant(deps.db, tenantId),
    ]);
    const now = deps.clock.now();
    const event = makeEvent('webhook.test', {
      tenantId,
      tenantExternalId: tenant.tenant_external_id,
      at: new Date(now),
      data: { webhook_id: id, message: 'Test event from Switchboard: if the signature verifies, this endpoint is ready.' },
    });
    const body = JSON.stringify(event);
    const deliveryId = uuid();
    const headers = signedHeaders({ secret, eventId: event.id, eventType: event.type, tenantId, deliveryId, timestamp: Math.floor(now / 1000), body, customHeaders });
    const attempt = await attemptDelivery(webhook.url, { headers, body, timeoutMs: webhook.timeoutMs }, deps.webhooks ?? {});
    // Written after the attempt, in one transaction: the log never shows a test that is neither sent nor failed.
    const delivery = await inTransaction(deps.db, async (trx) => {
      const row = await createDelivery(trx, { webhookId: id, tenantId, eventId: event.id, eventType: event.type, id: deliveryId });
      const recorded = await recordDeliveryAttempt(trx, row.id, { ...attempt, at: new Date(now).toISOString(), nextAttemptAt: null });
      await appendAudit(trx, { ...auditActor(c), action: 'webhook.tested', targetType: 'webhook', targetId: id, details: { delivery_id: row.id, status: recorded.status, status_code: attempt.statusCode } });
      return recorded;
    });
    return c.json({ data: deliveryView(delivery) }, 200);
  });
}
