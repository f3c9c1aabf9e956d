import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../../openapi.js';
import { registeredRoutes } from '../../route-registry.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import type { TestApi } from './test-helpers.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

describe('extensions in the OpenAPI document', () => {
  it('documents every extensions and registrations route with its scope, and the document is valid OpenAPI 3.1', async () => {
    const doc = await body(await t.app.request(OPENAPI_PATH));
    const ours = registeredRoutes(t.app).filter((r) => /^\/api\/v1\/(extensions|registrations)/.test(r.path));
    expect(ours.length).toBeGreaterThanOrEqual(7);
    for (const r of ours) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.description).toContain(r.scope);
    }
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
