import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { registerWebhookDeliveryRoutes } from './webhook-deliveries.routes.js';
import { registerWebhookRedeliverRoute } from './webhook-redeliver.routes.js';
import { registerWebhookCrudRoutes } from './webhooks.routes.js';

/** The webhooks resource (issue 5 §3): CRUD and secret rotation, then the delivery log, test event and redeliver. */
export function registerWebhookRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerWebhookCrudRoutes(app, deps);
  registerWebhookDeliveryRoutes(app, deps);
  registerWebhookRedeliverRoute(app, deps);
}
