import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { Gauge } from 'prom-client';
import { countForMetrics } from '../../../store/index.js';
import type { ApiEnv } from '../../env.js';
import { metricsFor, processMetrics } from '../../metrics.js';
import type { ResourceDeps } from '../../resources.js';
import { defineRoute, registerRoute } from '../../route-registry.js';

/** Prometheus text exposition format 0.0.4, the one every scraper reads. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export const metricsRoute = defineRoute({
  method: 'get',
  path: '/metrics',
  scope: 'voip:read',
  tags: ['System'],
  summary: 'Prometheus metrics (text exposition format)',
  description: 'Scrape with `authorization: { credentials: sk_live_… }` in the Prometheus job. Not rate limited. Counts are PBX-wide.',
  responses: { 200: { description: 'metrics', content: { 'text/plain': { schema: z.string() } } } },
});

/**
 * `/metrics`: HTTP request counters and durations (recorded by app.ts's middleware), PBX gauges
 * read at scrape time, and Node process metrics. The gauges are PBX-wide, not per tenant: the
 * endpoint serves the operator's monitoring, and only counts are exposed, never ids.
 */
export function registerMetricsRoutes(app: OpenAPIHono<ApiEnv>, deps: ResourceDeps): void {
  const { registry } = metricsFor(app);
  const sources = deps.metrics ?? {};
  // One store round trip per scrape feeds both count gauges, unless a source overrides them.
  let counts: Promise<{ extensions: number; registrations: number }> | undefined;
  const storeCounts = () => (counts ??= countForMetrics(deps.db, new Date(deps.clock.now()).toISOString()).finally(() => (counts = undefined)));

  new Gauge({
    name: 'switchboard_extensions',
    help: 'Extensions configured, all tenants',
    registers: [registry],
    async collect() {
      this.set(sources.extensions ? await sources.extensions() : (await storeCounts()).extensions);
    },
  });
  new Gauge({
    name: 'switchboard_registrations',
    help: 'Live SIP registrations (bindings not yet expired), all tenants',
    registers: [registry],
    async collect() {
      this.set(sources.registrations ? await sources.registrations() : (await storeCounts()).registrations);
    },
  });
  const engineConnected = sources.engineConnected;
  if (engineConnected) {
    new Gauge({
      name: 'switchboard_engine_connected',
      help: '1 while the SIP engine link is up',
      registers: [registry],
      async collect() {
        this.set((await engineConnected()) ? 1 : 0);
      },
    });
  }

  registerRoute(app, metricsRoute, async (c) => {
    const text = (await registry.metrics()) + (await processMetrics().metrics());
    // c.text would set its own content type; the header given here replaces it.
    return c.text(text, 200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' });
  });
}
