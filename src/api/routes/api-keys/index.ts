import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { registerApiKeyLifecycleRoutes } from './api-key-lifecycle.routes.js';
import { registerApiKeyCrudRoutes } from './api-keys.routes.js';

/** `/api/v1/api-keys`: list, create (key shown once), get, update, rotate, revoke; all `admin`. */
export function registerApiKeyRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerApiKeyCrudRoutes(app, deps);
  registerApiKeyLifecycleRoutes(app, deps);
}
