import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './env.js';
import type { ReadinessCheck } from './ports.js';
import { defineRoute, registerRoute } from './route-registry.js';

const HealthSchema = z.object({ status: z.literal('ok'), version: z.string(), uptime_s: z.number() }).openapi('Health');
const LiveSchema = z.object({ status: z.literal('ok') }).openapi('Live');
const CheckResultSchema = z.object({ name: z.string(), ok: z.boolean(), detail: z.string().optional() });
const ReadySchema = z
  .object({ status: z.enum(['ready', 'unready']), checks: z.array(CheckResultSchema), failed: z.array(z.string()) })
  .openapi('Ready');

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const healthRoute = defineRoute({
  method: 'get',
  path: '/health',
  scope: 'public',
  tags: ['health'],
  summary: 'Process is up; reports the version',
  responses: { 200: json(HealthSchema, 'up') },
});

export const liveRoute = defineRoute({
  method: 'get',
  path: '/api/live',
  scope: 'public',
  tags: ['health'],
  summary: 'Liveness: the event loop answers (restart the process if not)',
  responses: { 200: json(LiveSchema, 'alive') },
});

export const readyRoute = defineRoute({
  method: 'get',
  path: '/api/ready',
  scope: 'public',
  tags: ['health'],
  summary: 'Readiness: every dependency check passes (take out of rotation if not)',
  responses: { 200: json(ReadySchema, 'ready'), 503: json(ReadySchema, 'a check failed') },
});

/** Checks taking longer than this count as failed, so a hung dependency cannot hang the probe. */
export const READY_CHECK_TIMEOUT_MS = 2000;

/**
 * Health endpoints for orchestrators: `/health` and `/api/live` never touch dependencies (a slow
 * database must not get the process killed); `/api/ready` runs every readiness check from main.ts
 * (engine connected, database answers…) and answers 503 naming the failures.
 */
export function registerHealthRoutes(
  app: OpenAPIHono<ApiEnv>,
  deps: { version: string; checks: readonly ReadinessCheck[]; startedAt?: number },
): void {
  const startedAt = deps.startedAt ?? Date.now();
  registerRoute(app, healthRoute, (c) =>
    c.json({ status: 'ok' as const, version: deps.version, uptime_s: Math.round((Date.now() - startedAt) / 1000) }, 200),
  );
  registerRoute(app, liveRoute, (c) => c.json({ status: 'ok' as const }, 200));
  registerRoute(app, readyRoute, async (c) => {
    const checks = await Promise.all(deps.checks.map(runCheck));
    const failed = checks.filter((r) => !r.ok).map((r) => r.name);
    const body = { status: failed.length ? ('unready' as const) : ('ready' as const), checks, failed };
    return failed.length ? c.json(body, 503) : c.json(body, 200);
  });
}

async function runCheck(check: ReadinessCheck): Promise<{ name: string; ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${READY_CHECK_TIMEOUT_MS} ms`)), READY_CHECK_TIMEOUT_MS);
    });
    const r = await Promise.race([Promise.resolve(check.check()), timeout]);
    const result = typeof r === 'boolean' ? { ok: r } : r;
    return { name: check.name, ok: result.ok, ...(result.detail ? { detail: result.detail } : {}) };
  } catch (err) {
    return { name: check.name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}
