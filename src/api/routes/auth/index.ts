import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { registerSessionRoutes } from './auth.routes.js';
import { registerPasswordRoutes } from './password.routes.js';

/** Login sessions and passwords: `/api/v1/auth/*` and `POST /api/v1/users/{id}/password-reset`. */
export function registerAuthRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerSessionRoutes(app, deps);
  registerPasswordRoutes(app, deps);
}
