import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../openapi.js';
import { registeredRoutes } from '../route-registry.js';
import { body, testApiWithStore } from '../test-helpers.js';

/** The document of the app with every resource registered, as main.ts serves it. */
let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeAll(async () => {
  t = await testApiWithStore();
});
afterAll(() => t.close());

describe('OpenAPI document with every resource', () => {
  it('validates as OpenAPI 3.1 and lists every registered route', async () => {
    const doc = await body(await t.app.request(OPENAPI_PATH));
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    for (const r of registeredRoutes(t.app)) {
      if (r.path === OPENAPI_PATH) continue;
      expect(doc.paths[r.path]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    }
  });
});
