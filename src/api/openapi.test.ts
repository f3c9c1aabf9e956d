import { z } from '@hono/zod-openapi';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from './openapi.js';
import { SCOPES, defineRoute, registerRoute, registeredRoutes } from './route-registry.js';
import { body, testApi, testApiWithStore } from './test-helpers.js';

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

/** Every `$ref` value anywhere in the document. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

/** Follows a local JSON pointer (`#/components/schemas/Error`); undefined if it leads nowhere. */
function resolvePointer(doc: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((n, key) => (n && typeof n === 'object' ? (n as Record<string, unknown>)[key] : undefined), doc);
}

/**
 * The document of the app exactly as main.ts builds it, every resource included. Generic over
 * whatever routes/index.ts registers, so resources added later are checked without touching this.
 */
describe('OpenAPI document of the full app', () => {
  async function fullDoc() {
    const api = await testApiWithStore();
    try {
      const res = await api.app.request(OPENAPI_PATH);
      expect(res.status).toBe(200);
      return { doc: await body(res), routes: registeredRoutes(api.app) };
    } finally {
      api.close();
    }
  }

  it('validates as OpenAPI 3.1', async () => {
    const { doc } = await fullDoc();
    const result = await new Validator().validate(doc);
    if (!result.valid) console.error('OpenAPI validation errors:', JSON.stringify(result.errors, null, 2));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('has every $ref resolving inside the document', async () => {
    const { doc } = await fullDoc();
    const refs = [...new Set(refsIn(doc))];
    expect(refs.filter((r) => !r.startsWith('#/')), 'external refs').toEqual([]);
    expect(refs.filter((r) => resolvePointer(doc, r) === undefined), 'dangling refs').toEqual([]);
  });

  it('lists every registered route with its method, path parameters and a summary or operationId', async () => {
    const { doc, routes } = await fullDoc();
    expect(routes.length).toBeGreaterThan(1);
    const operationIds: string[] = [];
    for (const r of routes) {
      if (r.path === OPENAPI_PATH) continue; // the document does not describe itself
      const where = `${r.method} ${r.path}`;
      const op = doc.paths?.[r.path]?.[r.method.toLowerCase()];
      expect(op, `${where} missing from the document`).toBeDefined();
      expect(Boolean(op.operationId || op.summary?.trim()), `${where} has neither operationId nor summary`).toBe(true);
      if (op.operationId) operationIds.push(op.operationId);
      const declared = [...(doc.paths[r.path].parameters ?? []), ...(op.parameters ?? [])]
        .filter((p: { in: string }) => p.in === 'path')
        .map((p: { name: string }) => p.name)
        .sort();
      const inPath = [...r.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(declared, `${where} path parameters`).toEqual(inPath);
    }
    expect(operationIds.length, 'duplicate operationIds').toBe(new Set(operationIds).size);
  });

  it('documents no route the app does not register', async () => {
    const { doc, routes } = await fullDoc();
    const registered = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => methods.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.filter((d) => !registered.has(d))).toEqual([]);
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
