import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { registerCredentialsRoutes } from './credentials.routes.js';
import { registerExtensionCrudRoutes } from './extensions.routes.js';
import { registerRegistrationRoutes } from './registrations.routes.js';

/**
 * The extensions resource (issue 3 §5) and its registrations (§6): one registrar for the
 * resource list in routes/index.ts. Item routes with a literal suffix come after the CRUD ones;
 * Hono matches by path pattern, so order only affects the OpenAPI document.
 */
export function registerExtensionRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  registerExtensionCrudRoutes(app, deps);
  registerCredentialsRoutes(app, deps);
  registerRegistrationRoutes(app, deps);
}
