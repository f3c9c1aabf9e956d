import { afterEach, describe, expect, it } from 'vitest';
import { listenApi, type RunningApi } from './server.js';
import { testApi } from './test-helpers.js';

describe('listenApi', () => {
  let running: RunningApi | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  it('serves the app over real HTTP with the request id echoed', async () => {
    const { app } = testApi();
    running = await listenApi(app, { port: 0, hostname: '127.0.0.1' });
    const res = await fetch(`http://127.0.0.1:${running.address.port}/health`, { headers: { 'X-Request-ID': 'net-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('X-Request-ID')).toBe('net-1');
  });

  it('answers an oversized upload 413 before reading it', async () => {
    const { app } = testApi();
    running = await listenApi(app, { port: 0, hostname: '127.0.0.1' });
    const res = await fetch(`http://127.0.0.1:${running.address.port}/api/v1/anything`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects when the port is taken', async () => {
    const { app } = testApi();
    running = await listenApi(app, { port: 0, hostname: '127.0.0.1' });
    await expect(listenApi(app, { port: running.address.port, hostname: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
  });
});
