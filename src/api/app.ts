import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../shared/clock.js';
import type { ApiEnv } from './env.js';
import { registerDocsPage } from './docs-page.js';
import { ErrorCodes, errorResponse, handleError, validationErrorResponse } from './errors.js';
import { registerHealthRoutes } from './health.routes.js';
import { idempotency } from './idempotency.js';
import { httpMetrics, metricsFor } from './metrics.js';
import { MemoryIdempotencyStore } from './memory-ports.js';
import { registerOpenApiDoc } from './openapi.js';
import type { IdempotencyStore, ReadinessCheck, RequestLogSink } from './ports.js';
import { rateLimit } from './rate-limit.js';
import { requestIdMiddleware, requestLogMiddleware } from './request-context.js';
import type { ResourceDeps } from './resources.js';
import { registerResourceRoutes } from './routes/index.js';

/** Default request body cap: far above any JSON resource, far below what could exhaust memory. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Everything the API needs from the outside, built by main.ts (or by tests with fakes). */
export interface ApiDeps {
  /** Root logger; each request gets a child with its request id. */
  logger: Logger;
  /** Reported by `/health`. */
  version: string;
  clock?: Clock;
  /** Run by `/api/ready`. */
  readiness?: readonly ReadinessCheck[];
  /** Request log (`/api/v1/logs` later); none → requests are only logged through pino. */
  requestLog?: RequestLogSink;
  /** Idempotency records; defaults to in-memory (lost on restart). */
  idempotency?: IdempotencyStore;
  /** Per-key token bucket on `/api/v1/*`; `false` turns it off. Default 20 burst, 10/s. */
  rateLimit?: { capacity: number; refillPerSecond: number } | false;
  bodyLimitBytes?: number;
  /**
   * Authentication for `/api/v1/*` (sets `tenantId`/`principalId`, answers 401/403). It runs before
   * rate limiting and idempotency because both key on who is calling. The `forApp` form (e.g.
   * `apiKeyAuth`) gets the app so it can read each route's declared scope from its registry.
   */
  auth?: MiddlewareHandler<ApiEnv> | { forApp(app: object): MiddlewareHandler<ApiEnv> };
  /** The store and friends; with it every resource of routes/index.ts is registered. */
  resources?: ResourceDeps;
}

/**
 * The API application every resource plugs into. Order matters: the request id comes first so
 * every later answer (even 413 and 429) carries it; then the per-request logger; the body limit
 * before anything reads a body; rate limit and idempotency only on the versioned API.
 * Resources register with `registerRoute(app, defineRoute({ …, scope }), handler)`.
 */
export function createApi(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const clock = deps.clock ?? systemClock;
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) return validationErrorResponse(c, result.error);
      return undefined;
    },
  });

  app.use('*', requestIdMiddleware());
  app.use('*', requestLogMiddleware({ logger: deps.logger, clock, ...(deps.requestLog ? { sink: deps.requestLog } : {}) }));
  app.use('*', httpMetrics(metricsFor(app), clock));
  const maxSize = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  app.use(
    '*',
    bodyLimit({
      maxSize,
      onError: (c) => errorResponse(c, 413, ErrorCodes.PAYLOAD_TOO_LARGE, `request body exceeds ${maxSize} bytes`),
    }),
  );
  if (deps.auth) {
    const auth = typeof deps.auth === 'function' ? deps.auth : deps.auth.forApp(app);
    app.use('/api/v1/*', auth);
    // `/metrics` sits outside /api/v1 where Prometheus expects it, but still needs a key (scrapers
    // send `Authorization: Bearer sk_live_…`). No rate limit: a scrape must not be refused.
    app.use('/metrics', auth);
  }
  if (deps.rateLimit !== false) {
    const rl = deps.rateLimit ?? { capacity: 20, refillPerSecond: 10 };
    app.use('/api/v1/*', rateLimit({ ...rl, clock }));
  }
  app.use('/api/v1/*', idempotency(deps.idempotency ?? new MemoryIdempotencyStore(clock)));

  app.onError(handleError);
  app.notFound((c) => errorResponse(c, 404, ErrorCodes.NOT_FOUND, `no route for ${c.req.method} ${c.req.path}`));

  registerHealthRoutes(app, { version: deps.version, checks: deps.readiness ?? [] });
  if (deps.resources) registerResourceRoutes(app, deps.resources);
  registerOpenApiDoc(app, deps.version);
  registerDocsPage(app);
  return app;
}
