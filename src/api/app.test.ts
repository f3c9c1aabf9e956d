import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { SwitchboardError } from '../shared/errors.js';
import { MemoryRequestLogSink } from './memory-ports.js';
import { defineRoute, registerRoute } from './route-registry.js';
import { body, testApi } from './test-helpers.js';

const echoRoute = defineRoute({
  method: 'post',
  path: '/api/v1/echo/{id}',
  scope: 'voip:write',
  request: {
    params: z.object({ id: z.uuid() }),
    body: {
      content: {
        'application/json': {
          schema: z.object({ name: z.string().min(1), caller: z.object({ number: z.string().regex(/^\d+$/) }) }),
        },
      },
    },
  },
  responses: { 200: { description: 'echo', content: { 'application/json': { schema: z.object({ data: z.unknown() }) } } } },
});

function appWithEcho(...args: Parameters<typeof testApi>) {
  const t = testApi(...args);
  registerRoute(t.app, echoRoute, (c) => c.json({ data: c.req.valid('json') }, 200));
  t.app.get('/boom/switchboard', () => {
    throw new SwitchboardError('EXTENSION_NOT_FOUND', 'no extension 1001', { httpStatus: 404 });
  });
  t.app.get('/boom/internal', () => {
    throw new Error('secret internals');
  });
  return t;
}

const ID = '7b0f1f5e-6f2d-4a4b-9a7e-3b1c2d3e4f50';
const post = (payload: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: payload,
});

describe('request ids', () => {
  it('generates an X-Request-ID when absent', async () => {
    const { app } = testApi();
    const res = await app.request('/api/live');
    expect(res.headers.get('X-Request-ID')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a client X-Request-ID, also into error envelopes', async () => {
    const { app } = testApi();
    const res = await app.request('/nope', { headers: { 'X-Request-ID': 'client-abc_1' } });
    expect(res.headers.get('X-Request-ID')).toBe('client-abc_1');
    expect((await body(res)).request_id).toBe('client-abc_1');
  });

  it('replaces a malformed client id rather than echoing it', async () => {
    const { app } = testApi();
    const res = await app.request('/api/live', { headers: { 'X-Request-ID': 'bad id\twith spaces' } });
    expect(res.headers.get('X-Request-ID')).not.toContain(' ');
  });
});

describe('error envelope', () => {
  it('names every invalid field with VALIDATION_FAILED', async () => {
    const { app } = appWithEcho();
    const res = await app.request(`/api/v1/echo/${ID}`, post(JSON.stringify({ name: '', caller: { number: 'x' } })));
    expect(res.status).toBe(400);
    const b = await body(res);
    expect(b.error.code).toBe('VALIDATION_FAILED');
    expect(b.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['caller.number', 'name']);
    expect(b.request_id).toBe(res.headers.get('X-Request-ID'));
  });

  it('validates path params too', async () => {
    const { app } = appWithEcho();
    const res = await app.request('/api/v1/echo/not-a-uuid', post(JSON.stringify({ name: 'a', caller: { number: '1' } })));
    expect(res.status).toBe(400);
    expect((await body(res)).error.details[0].field).toBe('id');
  });

  it('answers malformed JSON with VALIDATION_FAILED, not 500', async () => {
    const { app } = appWithEcho();
    const res = await app.request(`/api/v1/echo/${ID}`, post('{"name":'));
    expect(res.status).toBe(400);
    expect((await body(res)).error.code).toBe('VALIDATION_FAILED');
  });

  it('passes valid input through', async () => {
    const { app } = appWithEcho();
    const input = { name: 'a', caller: { number: '1' } };
    const res = await app.request(`/api/v1/echo/${ID}`, post(JSON.stringify(input)));
    expect(res.status).toBe(200);
    expect(await body(res)).toEqual({ data: input });
  });

  it('answers unknown routes 404 NOT_FOUND in the envelope', async () => {
    const { app } = testApi();
    const res = await app.request('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    const b = await body(res);
    expect(b.error.code).toBe('NOT_FOUND');
    expect(Object.keys(b)).toEqual(['error', 'request_id']);
  });

  it('maps SwitchboardError code and httpStatus', async () => {
    const { app } = appWithEcho();
    const res = await app.request('/boom/switchboard');
    expect(res.status).toBe(404);
    expect((await body(res)).error).toMatchObject({ code: 'EXTENSION_NOT_FOUND', message: 'no extension 1001' });
  });

  it('hides unexpected errors behind INTERNAL and logs them once', async () => {
    const { app, lines } = appWithEcho();
    const res = await app.request('/boom/internal');
    expect(res.status).toBe(500);
    const b = await body(res);
    expect(b.error.code).toBe('INTERNAL');
    expect(JSON.stringify(b)).not.toContain('secret internals');
    expect(lines.filter((l) => l.includes('unhandled error'))).toHaveLength(1);
  });

  it('answers an oversized body 413 PAYLOAD_TOO_LARGE', async () => {
    const { app } = appWithEcho({ bodyLimitBytes: 1024 });
    const big = JSON.stringify({ name: 'x'.repeat(2000), caller: { number: '1' } });
    const res = await app.request(`/api/v1/echo/${ID}`, post(big));
    expect(res.status).toBe(413);
    const b = await body(res);
    expect(b.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(b.request_id).toBe(res.headers.get('X-Request-ID'));
  });
});

describe('request logging', () => {
  it('logs one line per request with the request id and credentials redacted', async () => {
    const sink = new MemoryRequestLogSink();
    const { app, lines } = testApi({ requestLog: sink });
    await app.request('/api/live', {
      headers: { 'X-Request-ID': 'r1', Authorization: 'Bearer tok_secret', 'X-API-Key': 'sk_live_secret' },
    });
    const line = lines.find((l) => l.includes('"request"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line ?? '{}')).toMatchObject({ requestId: 'r1', status: 200 });
    expect(lines.join('\n')).not.toMatch(/tok_secret|sk_live_secret/);
    expect(sink.entries).toEqual([expect.objectContaining({ request_id: 'r1', method: 'GET', path: '/api/live', status: 200 })]);
  });

  it('redacts passwords that handlers log through the request logger', async () => {
    const { app, lines } = testApi();
    const route = defineRoute({ method: 'get', path: '/api/v1/leaky', scope: 'public', responses: { 204: { description: 'none' } } });
    registerRoute(app, route, (c) => {
      c.get('log').info({ password: 'pw_plain', ext: { sip_password: 'sip_plain' } }, 'handler');
      return c.body(null, 204);
    });
    await app.request('/api/v1/leaky', { headers: { 'X-Request-ID': 'r2' } });
    const line = JSON.parse(lines.find((l) => l.includes('"handler"')) ?? '{}');
    expect(line).toMatchObject({ requestId: 'r2', password: '[redacted]', ext: { sip_password: '[redacted]' } });
    expect(lines.join('\n')).not.toMatch(/pw_plain|sip_plain/);
  });
});
