import { createRoute, type OpenAPIHono, type RouteConfig, type RouteHandler } from '@hono/zod-openapi';
import type { ApiEnv } from './env.js';
import { ErrorEnvelopeSchema } from './errors.js';

/**
 * API key scopes (issue 3 §4) plus `public` for routes that need no credentials (health, docs).
 * Every route must name one, so "forgot to protect it" cannot happen silently.
 */
export const SCOPES = [
  'public',
  'voip:read',
  'voip:write',
  'extensions:write',
  // Reading an extension's SIP password is its own permission (issue 3 §5): provisioning tools
  // need it, ordinary integrations that manage extensions should not see passwords.
  'extensions:credentials',
  'extensions:sync',
  'trunks:sync',
  'stores:read',
  'stores:sync',
  // Reading live calls is its own scope, like cdrs:read: who talks to whom now is personal data,
  // and a wallboard that shows calls should not be able to hang them up (calls:control).
  'calls:read',
  'calls:control',
  'cdrs:read',
  'webhooks:write',
  'admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** A route definition that cannot be built without a scope. */
export type ScopedRouteConfig = RouteConfig & { scope: Scope };

/** What the registry remembers of each route: enough for the scope test and the auth middleware. */
export interface RegisteredRoute {
  method: string;
  /** OpenAPI-style path (`/api/v1/extensions/{id}`). */
  path: string;
  /** Hono-style path (`/api/v1/extensions/:id`), as listed in `app.routes`. */
  honoPath: string;
  scope: Scope;
}

const registries = new WeakMap<object, RegisteredRoute[]>();

/**
 * Builds an OpenAPI route and marks it with its scope. Non-public routes get the API-key and bearer
 * security requirements in the document, so the OpenAPI file shows what each route needs.
 */
export function defineRoute<const R extends ScopedRouteConfig>(config: R) {
  const { scope, ...route } = config;
  const isPublic = scope === 'public';
  const security = isPublic ? [] : [{ ApiKeyAuth: [] }, { BearerAuth: [] }];
  const errors = errorResponses(isPublic ? [400, 429, 500] : [400, 401, 403, 429, 500]);
  const description = [route.description, `Required scope: \`${scope}\`.`].filter(Boolean).join('\n\n');
  return {
    route: createRoute({ security, ...route, description, responses: { ...errors, ...route.responses } }) as Omit<R, 'scope'>,
    scope,
  };
}

/**
 * The only way routes should be added to the API: registers the handler with validation and records
 * method, path and scope in the app's registry (read with {@link registeredRoutes}).
 */
export function registerRoute<R extends RouteConfig>(
  app: OpenAPIHono<ApiEnv>,
  def: { route: R; scope: Scope },
  handler: RouteHandler<R, ApiEnv>,
): void {
  recordRoute(app, { method: def.route.method.toUpperCase(), path: def.route.path, scope: def.scope });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  app.openapi(def.route, handler as any);
}

/** Every route registered through {@link registerRoute} on this app, in registration order. */
export function registeredRoutes(app: object): readonly RegisteredRoute[] {
  return registries.get(app) ?? [];
}

/** Looks up the scope a request needs; auth middleware uses this (undefined → unregistered route). */
export function scopeFor(app: object, method: string, honoPath: string): Scope | undefined {
  return registeredRoutes(app).find((r) => r.method === method && r.honoPath === honoPath)?.scope;
}

/**
 * Records a route added outside {@link registerRoute} (e.g. the OpenAPI document itself, which
 * `doc31` mounts), so the registry still covers every route the app answers.
 */
export function recordRoute(app: object, entry: Omit<RegisteredRoute, 'honoPath'>): void {
  const list = registries.get(app) ?? [];
  registries.set(app, list);
  list.push({ ...entry, honoPath: entry.path.replace(/\{([^}]+)\}/g, ':$1') });
}

const errorDescriptions: Record<number, string> = {
  400: 'VALIDATION_FAILED: the request is malformed; details name each field',
  401: 'UNAUTHORIZED: missing or bad credentials',
  403: 'FORBIDDEN: the credentials lack this route\'s scope',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'IDEMPOTENCY_KEY_REUSED',
  429: 'RATE_LIMITED: retry after `retry_after` seconds',
  500: 'INTERNAL',
  503: 'unavailable in this process (e.g. SIP not running)',
};

/**
 * Error responses in the one envelope, for route definitions; `defineRoute` adds the ones every
 * route can produce, and a resource adds its own (e.g. 404, 409) with this.
 */
export function errorResponses(statuses: readonly number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: errorDescriptions[status] ?? 'error',
        content: { 'application/json': { schema: ErrorEnvelopeSchema } },
      },
    ]),
  );
}
