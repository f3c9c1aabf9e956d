import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { SwitchboardError } from '../../../shared/errors.js';
import { appendAudit, findOutboxEvent, getDelivery, getWebhook, inTransaction, requeueDelivery } from '../../../store/index.js';
import { auditActor } from '../../audit.js';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, errorResponses, registerRoute } from '../../route-registry.js';
import { dataSchema, jsonResponse } from '../../schemas.js';
import { callerTenantId } from '../caller.js';
import { DeliverySchema, deliveryView } from './webhook.schemas.js';

const RedeliverParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: '0b5e8c1e-6f0a-4f7e-9d35-3c2e9b1f4a10' }),
  delivery_id: z.uuid().openapi({ param: { name: 'delivery_id', in: 'path' }, example: '7c1f6a52-2d4e-4b8a-9f3c-5e6d7a8b9c0d' }),
});

export const redeliverRoute = defineRoute({
  method: 'post', path: '/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver', scope: 'webhooks:write', tags: ['Webhooks'],
  summary: 'Send one delivery\'s event again',
  description:
    'Queues a new attempt of exactly that event (same event id, same body bytes, signed afresh) to this endpoint, with a fresh ' +
    'retry budget; the dispatcher sends it in the endpoint\'s order and subject to its circuit breaker. 202 with the delivery, now ' +
    '`pending`. 409 `WEBHOOK_EVENT_NOT_RETAINED` when the event is no longer kept (outbox retention) or was a test event (send a new one).',
  request: { params: RedeliverParams },
  responses: { 202: jsonResponse(dataSchema(DeliverySchema), 'queued'), ...errorResponses([404, 409]) },
});

/** `POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver` (issue 5 §3). */
export function registerWebhookRedeliverRoute(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerRoute(app, redeliverRoute, async (c) => {
    const { id, delivery_id: deliveryId } = c.req.valid('param');
    const tenantId = callerTenantId(c);
    await getWebhook(deps.db, tenantId, id);
    const delivery = await getDelivery(deps.db, tenantId, id, deliveryId);
    if (delivery.sequence === null || !(await findOutboxEvent(deps.db, delivery.eventId))) {
      throw new SwitchboardError('WEBHOOK_EVENT_NOT_RETAINED', 'this event can no longer be sent again: it was a test event, or the outbox retention removed it', { httpStatus: 409 });
    }
    const queued = await inTransaction(deps.db, async (trx) => {
      const row = await requeueDelivery(trx, tenantId, id, deliveryId, new Date(deps.clock.now()).toISOString());
      await appendAudit(trx, { ...auditActor(c), action: 'webhook.redelivered', targetType: 'webhook', targetId: id, details: { delivery_id: deliveryId, event_id: row.eventId } });
      return row;
    });
    // After the commit: the dispatcher reads the store, so it must see the requeued row.
    deps.webhookDispatch?.wake();
    return c.json({ data: deliveryView(queued) }, 202);
  });
}
