import { describe, expect, it } from 'vitest';
import { body, testApi } from './test-helpers.js';

describe('health routes', () => {
  it('GET /health reports up and the version', async () => {
    const { app } = testApi();
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ status: 'ok', version: '9.9.9-test' });
  });

  it('GET /api/live answers without running readiness checks', async () => {
    let ran = false;
    const { app } = testApi({ readiness: [{ name: 'db', check: () => ((ran = true), false) }] });
    expect((await app.request('/api/live')).status).toBe(200);
    expect(ran).toBe(false);
  });

  it('GET /api/ready is 200 when every check passes', async () => {
    const { app } = testApi({
      readiness: [
        { name: 'engine', check: () => true },
        { name: 'db', check: async () => ({ ok: true }) },
      ],
    });
    const res = await app.request('/api/ready');
    expect(res.status).toBe(200);
    expect(await body(res)).toMatchObject({ status: 'ready', failed: [] });
  });

  it('GET /api/ready is 503 listing what failed (false, { ok: false } or a throw)', async () => {
    const { app } = testApi({
      readiness: [
        { name: 'engine', check: () => false },
        { name: 'db', check: async () => ({ ok: true }) },
        { name: 'rtpengine', check: async () => ({ ok: false, detail: 'no answer on 22222' }) },
        {
          name: 'disk',
          check: () => {
            throw new Error('ENOSPC');
          },
        },
      ],
    });
    const res = await app.request('/api/ready');
    expect(res.status).toBe(503);
    const b = await body(res);
    expect(b.status).toBe('unready');
    expect(b.failed).toEqual(['engine', 'rtpengine', 'disk']);
    expect(b.checks).toContainEqual({ name: 'rtpengine', ok: false, detail: 'no answer on 22222' });
    expect(b.checks).toContainEqual({ name: 'disk', ok: false, detail: 'ENOSPC' });
  });
});
