import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredRoutes, type RegisteredRoute } from '../route-registry.js';
import { testApiWithStore } from '../test-helpers.js';

/**
 * The 401/403 half of the matrix over every registered route (issue 3 acceptance): no credentials
 * → 401 on every non-public route, a valid key of an unrelated scope → 403. Per-tenant 404s need
 * real ids and live in each resource's own tests.
 */
let t: Awaited<ReturnType<typeof testApiWithStore>>;
let wrongScopeKeys: Record<string, string>;
beforeAll(async () => {
  t = await testApiWithStore();
  wrongScopeKeys = { default: await t.keyFor(['cdrs:read']), 'cdrs:read': await t.keyFor(['webhooks:write']) };
});
afterAll(() => t.close());

const ID = '0b5e8c1e-6f0a-4f7e-9d35-3c2e9b1f4a10';
const concrete = (r: RegisteredRoute) => r.path.replace(/\{id\}/g, ID).replace(/\{[^}]+\}/g, 'x');
const apiRoutes = () => registeredRoutes(t.app).filter((r) => r.path.startsWith('/api/v1/') && r.scope !== 'public');

describe('auth matrix over every /api/v1 route', () => {
  it('has routes to check', () => {
    expect(apiRoutes().length).toBeGreaterThan(10);
  });

  it('answers 401 without credentials and with an unknown key or session token', async () => {
    for (const r of apiRoutes()) {
      for (const key of ['', 'sk_live_' + '0'.repeat(48), 'sbt_' + '0'.repeat(48)]) {
        const res = await t.call(r.method, concrete(r), { key });
        expect(res.status, `${r.method} ${r.path} with ${key.slice(0, 4) || 'nothing'}`).toBe(401);
      }
    }
  });

  it('answers 403 to a valid key without the route\'s scope', async () => {
    for (const r of apiRoutes()) {
      const key = wrongScopeKeys[r.scope] ?? wrongScopeKeys.default;
      const res = await t.call(r.method, concrete(r), { key });
      expect(res.status, `${r.method} ${r.path} (${r.scope})`).toBe(403);
    }
  });
});
