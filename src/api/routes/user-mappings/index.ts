import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../../env.js';
import type { ResourceDeps } from '../../resources.js';
import { registerUserMappingWriteRoutes } from './user-mapping-upsert.routes.js';
import { registerUserMappingReadRoutes } from './user-mappings.routes.js';

/**
 * `/api/v1/user-mappings`: an outside system's user id (a CRM's) ↔ a user and/or extension, so
 * integrations can click-to-call "as" their user and attribute calls back. Reads need
 * `voip:read`, writes `extensions:sync` (the scope CRM sync jobs hold).
 */
export function registerUserMappingRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  // The batch route first: `POST …/batch` must not be read as an item route (methods differ
  // today, but the order keeps that true if one is added).
  registerUserMappingWriteRoutes(app, deps);
  registerUserMappingReadRoutes(app, deps);
}
