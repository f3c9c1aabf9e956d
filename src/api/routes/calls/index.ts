import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { registerCallRoutes } from './calls.routes.js';
import { registerOriginateRoute } from './originate.routes.js';

/** `/api/v1/calls`: live calls (list, get, hang up, hold, transfer) and click-to-call. */
export function registerLiveCallRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerCallRoutes(app, deps);
  registerOriginateRoute(app, deps);
}
