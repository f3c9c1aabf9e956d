import { afterEach, describe, expect, it } from 'vitest';
import { parseEvent } from '../events/envelope.js';
import { listOutboxEvents } from '../store/index.js';
import { testApiWithStore } from './test-helpers.js';

let api: Awaited<ReturnType<typeof testApiWithStore>> | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const apiErrors = async () => {
  await api!.requestLog.flush();
  return (await listOutboxEvents(api!.db)).map((e) => parseEvent(JSON.parse(e.body))).filter((e) => e.type === 'api.error');
};

describe('api.error from real API answers', () => {
  it('a failed request of an authenticated tenant becomes api.error with the route pattern, request id and error code', async () => {
    api = await testApiWithStore({}, { apiErrorEvents: true });
    const res = await api.call('GET', '/api/v1/extensions/00000000-0000-4000-8000-000000000000', { headers: { 'X-Request-ID': 'req-404' } });
    expect(res.status).toBe(404);
    const code = ((await res.json()) as { error: { code: string } }).error.code;
    const [event] = await apiErrors();
    expect(event).toMatchObject({ tenant_id: api.tenant.id, data: { request_id: 'req-404', endpoint: '/api/v1/extensions/:id', method: 'GET', status_code: 404, error_code: code } });
    expect((event!.data as { principal_id: string | null }).principal_id).toEqual(expect.any(String));
  });

  it('a successful request makes none, and neither does a 401 with no tenant (nor does its query string travel anywhere)', async () => {
    api = await testApiWithStore({}, { apiErrorEvents: true });
    expect((await api.call('GET', '/api/v1/extensions')).status).toBe(200);
    expect((await api.call('GET', '/api/v1/extensions?api_key=sk_live_wrongkey', { key: '' })).status).toBe(401);
    expect(await apiErrors()).toEqual([]);
  });
});
