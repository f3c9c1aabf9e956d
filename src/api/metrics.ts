import type { MiddlewareHandler } from 'hono';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../shared/clock.js';
import type { ApiEnv } from './env.js';
import { routeTemplate } from './route-template.js';

/** The HTTP metrics of one API app, on its own registry (never prom-client's global one). */
export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
}

const perApp = new WeakMap<object, ApiMetrics>();

/**
 * The metrics of `app`, made on first use: the middleware (app.ts) counts into them and the
 * `/metrics` route (routes/metrics/) renders them, without either passing them to the other.
 */
export function metricsFor(app: object): ApiMetrics {
  let m = perApp.get(app);
  if (!m) {
    const registry = new Registry();
    m = {
      registry,
      requests: new Counter({ name: 'switchboard_http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: ['method', 'route', 'status'], registers: [registry] }),
      duration: new Histogram({
        name: 'switchboard_http_request_duration_seconds',
        help: 'HTTP request duration, by method and route template',
        labelNames: ['method', 'route'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
    };
    perApp.set(app, m);
  }
  return m;
}

let processRegistry: Registry | undefined;

/**
 * Node's process metrics (CPU, memory, event loop lag, GC) on a private registry made once per
 * process: they describe the process, not an app, and each `collectDefaultMetrics` call starts
 * its own event-loop and GC observers, which tests building many apps must not pile up.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: 'switchboard_' });
  }
  return processRegistry;
}

/**
 * Counts every request and observes its duration. Routes are labelled by template (`unmatched`
 * when none matched) so ids in paths cannot blow up the number of series.
 */
export function httpMetrics(metrics: ApiMetrics, clock: Clock): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = clock.now();
    try {
      await next();
    } finally {
      const route = routeTemplate(c) ?? 'unmatched';
      metrics.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
      metrics.duration.observe({ method: c.req.method, route }, (clock.now() - started) / 1000);
    }
  };
}
