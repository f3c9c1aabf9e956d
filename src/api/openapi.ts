import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './env.js';
import { recordRoute } from './route-registry.js';

/** Where the document is served (product.md §3). */
export const OPENAPI_PATH = '/api/v1/openapi.json';

/**
 * Serves the OpenAPI 3.1 document generated from the same zod schemas that validate requests, so
 * the document cannot drift from behaviour. Declares both credential kinds the API accepts.
 */
export function registerOpenApiDoc(app: OpenAPIHono<ApiEnv>, version: string): void {
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKeyAuth', {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: '`sk_live_…` API key',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'BearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'session token from POST /api/v1/auth/login',
  });
  recordRoute(app, { method: 'GET', path: OPENAPI_PATH, scope: 'public' });
  app.doc31(OPENAPI_PATH, {
    openapi: '3.1.0',
    info: { title: 'Switchboard API', version, description: 'Self-hosted, API-first SIP PBX' },
  });
}
