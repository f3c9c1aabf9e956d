import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPENAPI_PATH } from '../openapi.js';
import { registeredRoutes } from '../route-registry.js';
import { body, testApiWithStore } from '../test-helpers.js';

let t: Awaited<ReturnType<typeof testApiWithStore>>;
beforeEach(async () => {
  t = await testApiWithStore();
});
afterEach(() => t.close());

/** The routes of this change: keys, user mappings, audit, logs, metrics. */
const OURS = /^\/(api\/v1\/(api-keys|user-mappings|audit|logs)|metrics)/;

describe('API keys, mappings, audit, logs and metrics in the OpenAPI document', () => {
  it('validates as OpenAPI 3.1 and lists each of these routes with its scope', async () => {
    const doc = await body(await t.app.request(OPENAPI_PATH));
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const ours = registeredRoutes(t.app).filter((r) => OURS.test(r.path));
    expect(ours.length).toBe(17);
    for (const r of ours) {
      expect(r.scope).not.toBe('public');
      expect(doc.paths[r.path]?.[r.method.toLowerCase()]?.description, `${r.method} ${r.path}`).toContain(`\`${r.scope}\``);
    }
  });
});
