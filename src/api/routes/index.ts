import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../env.js';
import { ReadCache } from '../read-cache.js';
import type { ResourceDeps } from '../resources.js';
import { registerApiKeyRoutes } from './api-keys/index.js';
import { registerAuthRoutes } from './auth/index.js';
import { registerSetupRoutes } from './setup/setup.routes.js';
import { registerSiteRoutes } from './sites/site.routes.js';
import { registerTenantRoutes } from './tenants/tenant.routes.js';
import { registerUserRoutes } from './users/user.routes.js';
import { registerExtensionRoutes } from './extensions/index.js';
import { registerAuditRoutes } from './audit/audit.routes.js';
import { registerCdrRoutes } from './cdrs/cdr.routes.js';
import { registerRingGroupRoutes } from './ring-groups/ring-groups.routes.js';
import { registerRoutingRoutes } from './routing/routing.routes.js';
import { registerLiveCallRoutes } from './calls/index.js';
import { registerLogRoutes } from './logs/logs.routes.js';
import { registerMetricsRoutes } from './metrics/metrics.routes.js';
import { registerUserMappingRoutes } from './user-mappings/index.js';
import { registerWebhookRoutes } from './webhooks/index.js';
import { registerEventSchemaRoute } from './events/events-schema.routes.js';

/** One resource's route registration; each lives in its own folder under routes/. */
export type ResourceRegistrar = (app: OpenAPIHono<ApiEnv>, deps: ResourceDeps) => void;

/**
 * Every resource of the native API, in the order they appear in the OpenAPI document. Adding a
 * resource = one folder + one line here.
 */
const resources: ResourceRegistrar[] = [
  registerApiKeyRoutes,
  registerTenantRoutes,
  registerSiteRoutes,
  registerUserRoutes,
  registerExtensionRoutes,
  registerRingGroupRoutes,
  registerUserMappingRoutes,
  registerRoutingRoutes,
  registerLiveCallRoutes,
  registerCdrRoutes,
  registerWebhookRoutes,
  registerEventSchemaRoute,
  registerAuditRoutes,
  registerLogRoutes,
  registerMetricsRoutes,
  registerAuthRoutes,
  registerSetupRoutes,
];

export function registerResourceRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  // One read cache shared by every route that lists through it. Set on `deps` itself rather than on
  // a copy: routes read deps live (tests swap `deps.sip` after the app is built).
  if (deps.readCache === undefined && deps.changeCounter !== undefined) {
    deps.readCache = new ReadCache({ changes: deps.changeCounter, clock: deps.clock });
  }
  for (const register of resources) register(app, deps);
}
