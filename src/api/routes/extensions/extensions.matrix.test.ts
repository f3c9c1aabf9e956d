import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registeredRoutes, type RegisteredRoute } from '../../route-registry.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { bind, createExt, type TestApi } from './test-helpers.js';

/**
 * The auth matrix over every route of this resource, read from the app's registry so a route added
 * later is covered without editing this file: no key → 401, a key without the route's scope → 403,
 * another tenant's admin on an Acme id → 404 (never 403, which would confirm the id exists).
 */

let t: TestApi;
let ids: { extension: string; registration: string };
beforeEach(async () => {
  t = await testApiWithStore();
  const ext = await createExt(t);
  ids = { extension: ext.id, registration: (await bind(t, ext)).id };
});
afterEach(() => t.close());

const ours = (app: object) => registeredRoutes(app).filter((r) => /^\/api\/v1\/(extensions|registrations)(\/|$)/.test(r.path));

/** A request that passes validation, so the status shows auth and tenancy, not a 400. */
function request(r: RegisteredRoute): { path: string; body?: unknown } {
  const id = r.path.startsWith('/api/v1/registrations') ? ids.registration : ids.extension;
  const path = r.path.replace('{id}', id);
  if (r.method === 'POST' && r.path === '/api/v1/extensions') return { path, body: { number: '1999' } };
  if (r.method === 'PATCH') return { path, body: { dnd: true } };
  return { path };
}

describe('auth matrix of the extensions and registrations routes', () => {
  it('covers the expected routes, each with a real scope', () => {
    const routes = ours(t.app).map((r) => `${r.method} ${r.path} ${r.scope}`);
    expect(routes.sort()).toEqual(
      [
        'GET /api/v1/extensions voip:read',
        'POST /api/v1/extensions extensions:write',
        'GET /api/v1/extensions/{id} voip:read',
        'PATCH /api/v1/extensions/{id} extensions:write',
        'DELETE /api/v1/extensions/{id} extensions:write',
        'GET /api/v1/extensions/{id}/credentials extensions:credentials',
        'POST /api/v1/extensions/{id}/credentials/regenerate extensions:write',
        'GET /api/v1/extensions/{id}/registrations voip:read',
        'GET /api/v1/extensions/{id}/status voip:read',
        'GET /api/v1/registrations voip:read',
        'GET /api/v1/registrations/{id} voip:read',
        'DELETE /api/v1/registrations/{id} extensions:write',
      ].sort(),
    );
  });

  it('401 without a key on every route', async () => {
    for (const r of ours(t.app)) {
      const { path, body: b } = request(r);
      const res = await t.call(r.method, path, { key: '', ...(b === undefined ? {} : { body: b }) });
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
  });

  it('403 with a key of an unrelated scope on every route', async () => {
    const key = await t.keyFor(['cdrs:read']);
    for (const r of ours(t.app)) {
      const { path, body: b } = request(r);
      const res = await t.call(r.method, path, { key, ...(b === undefined ? {} : { body: b }) });
      expect(res.status, `${r.method} ${r.path}`).toBe(403);
      expect((await body(res)).error.code).toBe('FORBIDDEN');
    }
  });

  it("404 for another tenant's id on every item route, and Acme's data is untouched", async () => {
    for (const r of ours(t.app).filter((route) => route.path.includes('{id}'))) {
      const { path, body: b } = request(r);
      const res = await t.call(r.method, path, { key: t.otherAdminKey, ...(b === undefined ? {} : { body: b }) });
      expect(res.status, `${r.method} ${r.path}`).toBe(404);
      expect((await body(res)).error.code).toMatch(/^(EXTENSION|REGISTRATION)_NOT_FOUND$/);
    }
    const { data } = await body(await t.call('GET', `/api/v1/extensions/${ids.extension}`));
    expect(data).toMatchObject({ dnd: false, registration_status: { registered: true, contacts: 1 } });
  });

  it('the routes answer with the scope alone (admin is not needed)', async () => {
    for (const r of ours(t.app).filter((route) => route.method === 'GET')) {
      const res = await t.call(r.method, request(r).path, { key: await t.keyFor([r.scope]) });
      expect(res.status, `${r.method} ${r.path}`).toBe(200);
    }
  });
});
