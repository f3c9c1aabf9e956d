/**
 * The access matrix over EVERY route the full app registers (issue 3 acceptance): no credentials →
 * 401; a key holding every scope except the route's own (and admin) → 403; and for routes that
 * address one resource, another tenant's admin key → 404 with the resource left untouched. The
 * test enumerates the route registry, so a new route is covered the moment it is registered — and
 * fails until its resource has a fixture below, which is the point.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES, registeredRoutes, type RegisteredRoute } from './route-registry.js';
import { bind, createExt } from './routes/extensions/test-helpers.js';
import { createCall, createDelivery, finishCall } from '../store/index.js';
import { body, testApiWithStore } from './test-helpers.js';

type Api = Awaited<ReturnType<typeof testApiWithStore>>;
type Params = Record<string, string>;

/**
 * One resource of tenant Acme per collection (the path segment after `/api/v1/`), created through
 * the API as a user would, returning the values of every path parameter its routes use.
 */
const fixtures: Record<string, (t: Api) => Promise<Params>> = {
  'api-keys': async (t) => ({ id: (await body(await t.call('POST', '/api/v1/api-keys', { body: { name: 'matrix', scopes: ['voip:read'] } }))).data.id }),
  tenants: async (t) => {
    await t.call('PATCH', `/api/v1/tenants/${t.tenant.id}`, { body: { tenant_external_id: 'acme-matrix' } });
    return { id: t.tenant.id, tenant_external_id: 'acme-matrix' };
  },
  sites: async (t) => {
    const site = (await body(await t.call('POST', '/api/v1/sites', { body: { name: 'Matrix store', store_id: 'matrix-1' } }))).data;
    return { id: site.id, store_id: 'matrix-1' };
  },
  extensions: async (t) => ({ id: (await createExt(t, { number: '7001' })).id }),
  // Calls are recorded by the PBX, not created through the API: straight into the store.
  cdrs: async (t) => {
    const call = await createCall(t.db, { tenantId: t.tenant.id, direction: 'internal', callerNumber: '7001', calleeNumber: '7002', instanceId: 'matrix', startedAt: '2026-11-21T10:00:00.000Z' });
    return { id: (await finishCall(t.db, call.id, { state: 'BUSY', endedAt: '2026-11-21T10:00:03.000Z', hangupCause: 'USER_BUSY', sipStatus: 486 })).id };
  },
  'ring-groups': async (t) => {
    const member = await createExt(t, { number: '7004' });
    const res = await t.call('POST', '/api/v1/ring-groups', { body: { number: '7600', name: 'Matrix group', members: [{ extension_id: member.id }] } });
    expect(res.status).toBe(201);
    return { id: (await body(res)).data.id };
  },
  // Live calls exist only in the call service's memory, so the fixture is a real call started on
  // the same service the routes read (ringing, never ended): another tenant must find it "not found"
  // for every action, and the final GET shows it still live and unchanged.
  calls: async (t) => {
    const started = await t.callService.startCall({
      tenantId: t.tenant.id, direction: 'internal', caller: { number: '7001', name: null, extensionId: null }, callee: { number: '7002', name: null, extensionId: null },
    });
    expect(started.ok).toBe(true);
    return { id: started.callId };
  },
  registrations: async (t) => ({ id: (await bind(t, await createExt(t, { number: '7002' }))).id }),
  'user-mappings': async (t) => {
    const ext = await createExt(t, { number: '7003' });
    const res = await t.call('PUT', '/api/v1/user-mappings/crm-matrix-1', { body: { extension_id: ext.id } });
    expect(res.status).toBeLessThan(300);
    return { external_user_id: 'crm-matrix-1', extension_id: ext.id };
  },
  // The URL resolves through the test resolver (test-helpers.ts) to a public address.
  webhooks: async (t) => {
    const id = (await body(await t.call('POST', '/api/v1/webhooks', { body: { name: 'matrix', url: 'https://matrix.example.com/hook', events: ['call.*'] } }))).data.id;
    // Deliveries are made by the dispatcher, not through the API: straight into the store.
    const delivery = await createDelivery(t.db, { webhookId: id, tenantId: t.tenant.id, eventId: '5f0c2a9e-3b1d-4c55-9d0e-8a7b6c5d4e3f', eventType: 'call.start' });
    return { id, delivery_id: delivery.id };
  },
  users: async (t) => {
    const user = (await body(await t.call('POST', '/api/v1/users', { body: { email: 'matrix@acme.test', name: 'Matrix', role: 'user', password: 'correct horse battery' } }))).data;
    return { id: user.id };
  },
};

/** Request bodies that pass validation, so a cross-tenant call reaches the tenant check. */
const bodies: Record<string, unknown> = {
  'PATCH /api/v1/api-keys/{id}': { name: 'renamed' },
  'PATCH /api/v1/tenants/{id}': { name: 'renamed' },
  'PATCH /api/v1/sites/{id}': { name: 'renamed' },
  'PATCH /api/v1/users/{id}': { name: 'renamed' },
  'PATCH /api/v1/extensions/{id}': { dnd: true },
  'PATCH /api/v1/ring-groups/{id}': { name: 'renamed' },
  'PATCH /api/v1/webhooks/{id}': { name: 'renamed' },
  'PUT /api/v1/user-mappings/{external_user_id}': { extension_number: '7003' },
  'POST /api/v1/calls/{id}/transfer': { to: '7003' },
};

const collectionOf = (path: string): string => path.replace(/^\/api\/v1\//, '').split('/')[0] ?? '';
const paramsOf = (path: string): string[] => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
const fill = (path: string, params: Params): string => path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? '00000000-0000-4000-8000-000000000000'));
const label = (r: RegisteredRoute): string => `${r.method} ${r.path}`;

let t: Api;
let routes: RegisteredRoute[];
const fixtureParams = new Map<string, Params>();

beforeAll(async () => {
  t = await testApiWithStore();
  routes = registeredRoutes(t.app).filter((r) => r.scope !== 'public');
  for (const [collection, make] of Object.entries(fixtures)) fixtureParams.set(collection, await make(t));
});
afterAll(() => t.close());

describe('access matrix over every registered route', () => {
  it('covers a real API (guards against an empty registry)', () => {
    expect(routes.length).toBeGreaterThan(20);
  });

  it('answers 401 without credentials and with a malformed or unknown key', async () => {
    const failures: string[] = [];
    for (const r of routes) {
      for (const key of ['', 'sk_live_0000', 'not-a-key', `sbt_${'0'.repeat(48)}`]) {
        const res = await t.call(r.method, fill(r.path, {}), { key, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { body: {} }) });
        if (res.status !== 401) failures.push(`${label(r)} with key "${key}" → ${res.status}`);
        else if ((await body(res)).error.code !== 'UNAUTHORIZED') failures.push(`${label(r)}: code is not UNAUTHORIZED`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers 403 to a key with every scope but the route’s own', async () => {
    const failures: string[] = [];
    const keys = new Map<string, string>();
    for (const r of routes) {
      let key = keys.get(r.scope);
      if (!key) {
        key = await t.keyFor(SCOPES.filter((s) => s !== 'public' && s !== 'admin' && s !== r.scope));
        keys.set(r.scope, key);
      }
      const res = await t.call(r.method, fill(r.path, {}), { key, ...(r.method === 'GET' || r.method === 'DELETE' ? {} : { body: {} }) });
      if (res.status !== 403) failures.push(`${label(r)} (scope ${r.scope}) → ${res.status}`);
      else if ((await body(res)).error.code !== 'FORBIDDEN') failures.push(`${label(r)}: code is not FORBIDDEN`);
    }
    expect(failures).toEqual([]);
  });

  it('answers 404 to another tenant for every route addressing one resource, and leaves it as it was', async () => {
    const failures: string[] = [];
    const addressed = routes.filter((r) => paramsOf(r.path).length > 0);
    expect(addressed.length).toBeGreaterThan(5);
    for (const r of addressed) {
      const params = fixtureParams.get(collectionOf(r.path));
      if (!params) {
        failures.push(`${label(r)}: no fixture for collection "${collectionOf(r.path)}" — add one to route-matrix.test.ts`);
        continue;
      }
      const missing = paramsOf(r.path).filter((p) => params[p] === undefined);
      if (missing.length) {
        failures.push(`${label(r)}: the fixture gives no value for ${missing.join(', ')}`);
        continue;
      }
      const path = fill(r.path, params);
      const withBody = r.method !== 'GET' && r.method !== 'DELETE';
      const res = await t.call(r.method, path, { key: t.otherAdminKey, ...(withBody ? { body: bodies[label(r)] ?? {} } : {}) });
      // An upsert by another tenant addresses that tenant's own record (ids are namespaced per
      // tenant), and Acme's extension is no valid reference for it (422 naming the field); what
      // must not happen is touching Acme's record, which the GET below checks.
      const upsertOk = r.method === 'PUT' && (res.status < 300 || res.status === 422);
      if (res.status !== 404 && !upsertOk) failures.push(`${label(r)} by another tenant → ${res.status} ${JSON.stringify(await body(res).catch(() => null))}`);
      // The item itself must be unchanged: still there for its own tenant.
      const itemRoute = [r.path, `/api/v1/${collectionOf(r.path)}/{id}`].find(
        (p) => routes.some((x) => x.method === 'GET' && x.path === p) && paramsOf(p).every((n) => params[n] !== undefined),
      );
      if (itemRoute) {
        const own = await t.call('GET', fill(itemRoute, params));
        if (own.status !== 200) failures.push(`${label(r)} by another tenant changed the resource: own GET → ${own.status}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
