import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from './openapi.js';
import { SCOPES, defineRoute, registerRoute, registeredRoutes } from './route-registry.js';
import { body, testApi } from './test-helpers.js';

/** The app as main.ts will build it (today: the foundation only), plus one sample resource route. */
function fullApp() {
  const t = testApi();
  registerRoute(
    t.app,
    defineRoute({
      method: 'get',
      path: '/api/v1/samples/{id}',
      scope: 'voip:read',
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: { description: 'ok', content: { 'application/json': { schema: z.object({ data: z.string() }) } } } },
    }),
    (c) => c.json({ data: c.req.valid('param').id }, 200),
  );
  return t;
}

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with both credential schemes', async () => {
    const { app } = fullApp();
    const res = await app.request(OPENAPI_PATH);
    expect(res.status).toBe(200);
    const doc = await body(res);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('9.9.9-test');
    expect(doc.components.securitySchemes.ApiKeyAuth).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(doc.components.securitySchemes.BearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('lists every registered route (except itself), with security on non-public ones', async () => {
    const { app } = fullApp();
    const doc = await body(await app.request(OPENAPI_PATH));
    for (const r of registeredRoutes(app)) {
      if (r.path === OPENAPI_PATH) continue;
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path} missing from the document`).toBeDefined();
      expect(op.description).toContain(r.scope);
      expect(op.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
      if (r.scope === 'public') expect(op.security).toEqual([]);
      else {
        expect(op.security).toEqual([{ ApiKeyAuth: [] }, { BearerAuth: [] }]);
        expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
      }
    }
  });
});

describe('scope registry', () => {
  it('every route the app answers declares a known scope', () => {
    const { app } = fullApp();
    const registered = registeredRoutes(app);
    const handlers = app.routes.filter((r) => r.method !== 'ALL');
    expect(handlers.length).toBeGreaterThan(0);
    const missing = handlers
      .filter((h) => !registered.some((r) => r.method === h.method && r.honoPath === h.path))
      .map((h) => `${h.method} ${h.path}`);
    expect(missing, 'routes added without registerRoute/defineRoute (no scope)').toEqual([]);
    for (const r of registered) expect(SCOPES).toContain(r.scope);
  });

  it('catches a route added behind the registry’s back', () => {
    const { app } = fullApp();
    app.get('/api/v1/sneaky', (c) => c.text('x'));
    const missing = app.routes
      .filter((h) => h.method !== 'ALL')
      .filter((h) => !registeredRoutes(app).some((r) => r.method === h.method && r.honoPath === h.path));
    expect(missing.map((h) => h.path)).toEqual(['/api/v1/sneaky']);
  });

  it('refuses at compile time a route without a scope', () => {
    // @ts-expect-error scope is required
    expect(() => defineRoute({ method: 'get', path: '/x', responses: {} })).not.toThrow();
  });
});
