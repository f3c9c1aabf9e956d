import { afterEach, describe, expect, it } from 'vitest';
import { createExtension } from '../../../store/index.js';
import { apiKeyAuth } from '../../api-key-auth.js';
import { createApi } from '../../app.js';
import { captureLogger, testApiWithStore } from '../../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>> | undefined;
afterEach(() => t?.close());

/**
 * Prometheus text format 0.0.4: `# HELP`/`# TYPE` comments and `name{labels} value` samples
 * (Go's ParseFloat, which Prometheus uses, takes NaN in any case; prom-client writes `Nan`).
 */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (-?[0-9.eE+-]+|[Nn]a[Nn]|[+-]Inf)(?: -?\d+)?$/.exec(line);
    if (!m) throw new Error(`not exposition format: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return samples;
}

describe('GET /metrics', () => {
  it('serves exposition text with the HTTP counter, histogram, gauges and process metrics', async () => {
    t = await testApiWithStore();
    await createExtension(t.db, t.secretKey, { tenantId: t.tenant.id, number: '1001' });
    await createExtension(t.db, t.secretKey, { tenantId: t.otherTenant.id, number: '1001' });
    await t.call('GET', '/api/v1/api-keys');
    await t.call('GET', '/api/v1/api-keys/00000000-0000-4000-8000-000000000000');
    await t.call('GET', '/api/v1/api-keys/00000000-0000-4000-8000-000000000001');
    const res = await t.app.request('/metrics', { headers: { Authorization: `Bearer ${await t.keyFor(['voip:read'])}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parseExposition(await res.text());
    expect(samples.get('switchboard_http_requests_total{method="GET",route="/api/v1/api-keys",status="200"}')).toBe(1);
    // ids never become labels: both 404s count under the template
    expect(samples.get('switchboard_http_requests_total{method="GET",route="/api/v1/api-keys/:id",status="404"}')).toBe(2);
    expect(samples.get('switchboard_http_request_duration_seconds_count{method="GET",route="/api/v1/api-keys/:id"}')).toBe(2);
    expect(samples.get('switchboard_extensions')).toBe(2);
    expect(samples.get('switchboard_registrations')).toBe(0);
    expect([...samples.keys()].some((k) => k.startsWith('switchboard_process_cpu_user_seconds_total'))).toBe(true);
    expect(samples.has('switchboard_engine_connected')).toBe(false);
  });

  it('reads gauges from MetricsSources when given', async () => {
    t = await testApiWithStore();
    // sources are read when the route is registered, so this app is built on deps that carry them
    const app = createApi({ logger: captureLogger().logger, version: 'x', auth: apiKeyAuth({ db: t.db }), resources: { ...t.resources, metrics: { registrations: () => 7, engineConnected: async () => true } } });
    const samples = parseExposition(await (await app.request('/metrics', { headers: { 'X-API-Key': t.adminKey } })).text());
    expect(samples.get('switchboard_registrations')).toBe(7);
    expect(samples.get('switchboard_engine_connected')).toBe(1);
  });

  it('needs a key with voip:read (401, 403) and is not rate limited', async () => {
    t = await testApiWithStore({ rateLimit: { capacity: 1, refillPerSecond: 0.001 } });
    expect((await t.app.request('/metrics')).status).toBe(401);
    expect((await t.app.request('/metrics', { headers: { 'X-API-Key': await t.keyFor(['cdrs:read']) } })).status).toBe(403);
    for (let i = 0; i < 3; i++) {
      const res = await t.app.request('/metrics', { headers: { 'X-API-Key': t.adminKey } });
      expect(res.status).toBe(200);
      expect(res.headers.get('X-RateLimit-Limit')).toBeNull();
    }
  });
});
