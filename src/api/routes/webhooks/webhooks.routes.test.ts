import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allowListOf } from '../../../events/webhooks/ip-ranges.js';
import { body, testApiWithStore, testResolver } from '../../test-helpers.js';

type Api = Awaited<ReturnType<typeof testApiWithStore>>;
let t: Api;
let receiver: Server;
let receiverPort: number;
const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  t = await testApiWithStore();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.url === '/broken' ? 500 : 200).end(req.url === '/broken' ? 'boom' : 'thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverPort = (receiver.address() as AddressInfo).port;
});
afterAll(async () => {
  receiver.closeAllConnections();
  receiver.close();
  await t.close();
});

const create = (payload: unknown, headers: Record<string, string> = {}) => t.call('POST', '/api/v1/webhooks', { body: payload, headers });
const valid = { name: 'CRM', url: 'https://crm.example.com/hooks', events: ['call.*', 'trunk.status'] };
const loopbackAllowed = () => {
  t.resources.webhooks = { resolve: testResolver, allow: allowListOf([{ address: '127.0.0.0', prefix: 8, family: 'ipv4' }]) };
};
const noAllowList = () => {
  t.resources.webhooks = { resolve: testResolver };
};

describe('webhooks CRUD', () => {
  it('creates with a generated whsec_ secret shown once, defaults, and redacts it afterwards', async () => {
    const res = await create(valid);
    expect(res.status).toBe(201);
    const w = (await body(res)).data;
    expect(w).toMatchObject({ name: 'CRM', events: ['call.*', 'trunk.status'], retry_count: 3, timeout_ms: 5000, enabled: true, headers: {}, circuit_breaker: { state: 'closed', consecutive_failures: 0, paused_until: null } });
    expect(w.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const got = (await body(await t.call('GET', `/api/v1/webhooks/${w.id}`))).data;
    expect(got.secret).toBe('[redacted]');
    const list = await body(await t.call('GET', '/api/v1/webhooks'));
    expect(list.data.find((x: { id: string }) => x.id === w.id).secret).toBe('[redacted]');
    const audit = JSON.stringify(await body(await t.call('GET', '/api/v1/audit?limit=500')));
    expect(audit).toContain('webhook.created');
    expect(audit).not.toContain(w.secret);
    expect(t.lines.join('\n')).not.toContain(w.secret);
  });

  it('takes a given secret, headers, retry and timeout; an Idempotency-Key replay does not show the secret again', async () => {
    const payload = { ...valid, secret: 'your-webhook-secret-key-here', headers: { Authorization: 'Bearer crm' }, retry_count: 5, timeout_ms: 2000, enabled: false };
    const first = (await body(await create(payload, { 'Idempotency-Key': 'wh-1' }))).data;
    expect(first).toMatchObject({ secret: 'your-webhook-secret-key-here', headers: { Authorization: '********' }, retry_count: 5, timeout_ms: 2000, enabled: false });
    const replay = await create(payload, { 'Idempotency-Key': 'wh-1' });
    expect(replay.status).toBe(201);
    expect((await body(replay)).data).toMatchObject({ id: first.id, secret: '[redacted]' });
    expect((await body(await t.call('GET', '/api/v1/webhooks?enabled=false'))).data.map((x: { id: string }) => x.id)).toEqual([first.id]);
  });

  it('answers 400 naming the field for bad filters, headers, secrets and URL syntax — and writes nothing', async () => {
    const before = (await body(await t.call('GET', '/api/v1/webhooks'))).pagination.total;
    const cases: Array<[unknown, string]> = [
      [{ ...valid, events: ['call.finished'] }, 'events.0'],
      [{ ...valid, events: ['cal.*'] }, 'events.0'],
      [{ ...valid, events: [] }, 'events'],
      [{ ...valid, headers: { 'X-Webhook-Signature': 'forged' } }, 'headers.X-Webhook-Signature'],
      [{ ...valid, headers: { 'webhook-timestamp': '1' } }, 'headers.webhook-timestamp'],
      [{ ...valid, headers: { Host: 'evil.example.com' } }, 'headers.Host'],
      [{ ...valid, headers: { 'Content-Length': '0' } }, 'headers.Content-Length'],
      [{ ...valid, headers: { 'Bad Name': 'x' } }, 'headers.Bad Name'],
      [{ ...valid, headers: { 'X-A': 'a\r\nX-Injected: 1' } }, 'headers.X-A'],
      [{ ...valid, headers: { 'X-A': 'a\nb' } }, 'headers.X-A'],
      [{ ...valid, headers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`X-H${i}`, 'v'])) }, 'headers'],
      [{ ...valid, secret: 'short' }, 'secret'],
      [{ ...valid, url: 'ftp://crm.example.com/x' }, 'url'],
      [{ ...valid, url: 'https://user:pw@crm.example.com/x' }, 'url'],
      [{ ...valid, url: 'not a url' }, 'url'],
      [{ ...valid, retry_count: 11 }, 'retry_count'],
      [{ ...valid, timeout_ms: 10 }, 'timeout_ms'],
      [{ ...valid, breaker_state: 'closed' }, ''],
    ];
    for (const [payload, field] of cases) {
      const res = await create(payload);
      const b = await body(res);
      expect(res.status, JSON.stringify(payload)).toBe(400);
      expect(b.error.code).toBe('VALIDATION_FAILED');
      if (field) expect(b.error.details.map((d: { field: string }) => d.field), JSON.stringify(payload)).toContain(field);
    }
    expect((await body(await t.call('GET', '/api/v1/webhooks'))).pagination.total).toBe(before);
  });

  it('answers 422 naming url for destinations the SSRF guard refuses — and writes nothing', async () => {
    // Names a rebinding attacker would point inside; everything else as the usual test resolver.
    const inside: Record<string, string> = { 'private.example.com': '10.1.2.3', 'metadata.example.com': '169.254.169.254', 'ula.example.com': 'fd00:ec2::254', 'mapped.example.com': '::ffff:192.168.1.1' };
    t.resources.webhooks = {
      resolve: async (host) => {
        const address = inside[host];
        return address === undefined ? testResolver(host) : [{ address, family: address.includes(':') ? 6 : 4 }];
      },
    };
    const before = (await body(await t.call('GET', '/api/v1/webhooks'))).pagination.total;
    const refused = [
      'https://127.0.0.1/x', 'https://2130706433/x', 'https://0177.0.0.1/x', 'https://0x7f.1/x', 'https://127.1/x',
      'https://[::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://[::127.0.0.1]/x', 'https://[64:ff9b::10.0.0.1]/x',
      'https://localhost/x', 'https://localhost./x', 'https://169.254.169.254/latest', 'https://[fd00:ec2::254]/x',
      'https://10.0.0.1/x', 'https://172.16.0.1/x', 'https://192.168.1.1/x', 'https://100.64.0.1/x', 'https://0.0.0.0/x',
      'https://255.255.255.255/x', 'https://224.0.0.1/x', 'https://[fe80::1]/x', 'https://203.0.113.5/x',
      'https://private.example.com/x', 'https://metadata.example.com/x', 'https://ula.example.com/x', 'https://mapped.example.com/x',
      'http://crm.example.com/x', 'https://unknown.invalid/x',
    ];
    expect(refused.length).toBeGreaterThanOrEqual(20);
    for (const url of refused) {
      const res = await create({ ...valid, url });
      const b = await body(res);
      expect(res.status, url).toBe(422);
      expect(b.error.code).toBe('WEBHOOK_URL_REFUSED');
      expect(b.error.details).toEqual([{ field: 'url', issue: expect.any(String) }]);
    }
    expect((await body(await t.call('GET', '/api/v1/webhooks'))).pagination.total).toBe(before);
    noAllowList();
  });

  it('accepts http to an allow-listed range', async () => {
    loopbackAllowed();
    expect((await create({ ...valid, url: `http://127.0.0.1:${receiverPort}/ok` })).status).toBe(201);
    noAllowList();
  });

  it('updates fields, re-checks a new URL, refuses the secret and breaker in a PATCH', async () => {
    const w = (await body(await create(valid))).data;
    const res = await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { events: ['*'], enabled: false, headers: { 'X-Source': 'pbx' } } });
    expect(res.status).toBe(200);
    expect((await body(res)).data).toMatchObject({ events: ['*'], enabled: false, headers: { 'X-Source': '********' }, secret: '[redacted]' });
    expect((await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { url: 'https://192.168.0.10/x' } })).status).toBe(422);
    expect((await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { secret: 'another-secret-123456' } })).status).toBe(400);
    const reserved = await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { headers: { 'X-Ok': 'fine', Host: 'evil.example.com' } } });
    expect(reserved.status).toBe(400);
    expect((await body(reserved)).error.details.map((d: { field: string }) => d.field)).toEqual(['headers.Host']);
    expect((await body(await t.call('GET', `/api/v1/webhooks/${w.id}`))).data.url).toBe(valid.url);
  });

  it('never answers with custom header values, nor logs or audits them', async () => {
    const token = 'Bearer header-token-0815';
    const created = await create({ ...valid, headers: { Authorization: token, 'X-Source': 'pbx' } }, { 'Idempotency-Key': 'wh-headers' });
    expect(created.status).toBe(201);
    const w = (await body(created)).data;
    expect(w.headers).toEqual({ Authorization: '********', 'X-Source': '********' });
    const answers = [
      await create({ ...valid, headers: { Authorization: token, 'X-Source': 'pbx' } }, { 'Idempotency-Key': 'wh-headers' }),
      await t.call('GET', `/api/v1/webhooks/${w.id}`),
      await t.call('GET', '/api/v1/webhooks?limit=100'),
      await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { name: 'renamed' } }),
      await t.call('POST', `/api/v1/webhooks/${w.id}/rotate-secret`),
      await t.call('GET', '/api/v1/audit?limit=500'),
    ];
    for (const res of answers) {
      expect(res.status).toBeLessThan(300);
      expect(await res.text()).not.toContain('header-token');
    }
    expect(t.lines.join('\n')).not.toContain('header-token');
    expect(await (await t.call('GET', '/api/v1/openapi.json')).text()).toContain('********');
  });

  it('PATCH replaces the header set; the redaction marker keeps a stored value, so a GET round-trips', async () => {
    loopbackAllowed();
    const w = (await body(await create({ ...valid, url: `http://127.0.0.1:${receiverPort}/ok`, headers: { Authorization: 'Bearer keep-me', 'X-Old': 'old' } }))).data;
    // The GET's headers sent back with one added: the token is kept, not replaced by asterisks.
    const got = (await body(await t.call('GET', `/api/v1/webhooks/${w.id}`))).data;
    const patched = await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { headers: { ...got.headers, 'X-New': 'new' } } });
    expect(patched.status).toBe(200);
    expect((await body(patched)).data.headers).toEqual({ Authorization: '********', 'X-Old': '********', 'X-New': '********' });
    const sent = async () => {
      await t.call('POST', `/api/v1/webhooks/${w.id}/test`);
      return received.at(-1)?.headers ?? {};
    };
    expect(await sent()).toMatchObject({ authorization: 'Bearer keep-me', 'x-old': 'old', 'x-new': 'new' });
    // Names compare case-insensitively; a header left out is removed; a new value replaces.
    await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { headers: { authorization: '********', 'X-New': 'newer' } } });
    const h = await sent();
    expect(h).toMatchObject({ authorization: 'Bearer keep-me', 'x-new': 'newer' });
    expect(h['x-old']).toBeUndefined();
    // The marker for a header with no stored value, or on create, is refused naming it — nothing changes.
    const unknown = await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { name: 'x', headers: { Authorization: '********', 'X-Missing': '********' } } });
    expect(unknown.status).toBe(422);
    expect((await body(unknown)).error.details).toEqual([{ field: 'headers.X-Missing', issue: expect.any(String) }]);
    expect((await body(await t.call('GET', `/api/v1/webhooks/${w.id}`))).data.name).toBe(valid.name);
    const onCreate = await create({ ...valid, headers: { Authorization: '********' } });
    expect(onCreate.status).toBe(422);
    expect((await body(onCreate)).error.details).toEqual([{ field: 'headers.Authorization', issue: expect.any(String) }]);
    // An empty object removes them all.
    await t.call('PATCH', `/api/v1/webhooks/${w.id}`, { body: { headers: {} } });
    expect((await body(await t.call('GET', `/api/v1/webhooks/${w.id}`))).data.headers).toEqual({});
    noAllowList();
  });

  it('rotates the secret (generated or given), shown once', async () => {
    const w = (await body(await create(valid))).data;
    const generated = (await body(await t.call('POST', `/api/v1/webhooks/${w.id}/rotate-secret`))).data;
    expect(generated.secret).toMatch(/^whsec_/);
    expect(generated.secret).not.toBe(w.secret);
    const given = await t.call('POST', `/api/v1/webhooks/${w.id}/rotate-secret`, { body: { secret: 'a-brand-new-secret-0001' } });
    expect((await body(given)).data.secret).toBe('a-brand-new-secret-0001');
    expect((await body(await t.call('GET', `/api/v1/webhooks/${w.id}`))).data.secret).toBe('[redacted]');
  });

  it('deletes, and keeps tenants apart', async () => {
    const w = (await body(await create(valid))).data;
    expect((await t.call('GET', `/api/v1/webhooks/${w.id}`, { key: t.otherAdminKey })).status).toBe(404);
    expect((await body(await t.call('GET', '/api/v1/webhooks', { key: t.otherAdminKey }))).pagination.total).toBe(0);
    expect((await t.call('DELETE', `/api/v1/webhooks/${w.id}`, { key: t.otherAdminKey })).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/webhooks/${w.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/webhooks/${w.id}`)).status).toBe(404);
  });

  it('needs webhooks:write to write and voip:read to read', async () => {
    const reader = await t.keyFor(['voip:read']);
    expect((await t.call('GET', '/api/v1/webhooks', { key: reader })).status).toBe(200);
    expect((await t.call('POST', '/api/v1/webhooks', { key: reader, body: valid })).status).toBe(403);
    const writer = await t.keyFor(['webhooks:write']);
    expect((await t.call('POST', '/api/v1/webhooks', { key: writer, body: valid })).status).toBe(201);
  });
});

describe('test event and delivery log', () => {
  it('signs and sends webhook.test to the receiver now, and records the delivery', async () => {
    loopbackAllowed();
    const w = (await body(await create({ ...valid, url: `http://127.0.0.1:${receiverPort}/ok`, headers: { 'X-Source': 'pbx' } }))).data;
    const res = await t.call('POST', `/api/v1/webhooks/${w.id}/test`);
    expect(res.status).toBe(200);
    const d = (await body(res)).data;
    expect(d).toMatchObject({ webhook_id: w.id, event_type: 'webhook.test', status: 'delivered', attempts: 1, last_status_code: 200, response_excerpt: 'thanks', last_error: null });
    const got = received.at(-1);
    expect(got).toBeDefined();
    const event = JSON.parse(got?.body ?? '{}');
    expect(event).toMatchObject({ id: d.event_id, type: 'webhook.test', tenant_id: t.tenant.id, data: { webhook_id: w.id } });
    const h = got?.headers ?? {};
    expect(h).toMatchObject({ 'x-webhook-event': 'webhook.test', 'x-request-id': d.id, 'x-tenant-id': t.tenant.id, 'webhook-id': d.event_id, 'x-source': 'pbx', 'content-type': 'application/json' });
    const key = Buffer.from(w.secret.slice('whsec_'.length), 'base64');
    expect(h['webhook-signature']).toBe(`v1,${createHmac('sha256', key).update(`${h['webhook-id']}.${h['webhook-timestamp']}.${got?.body}`).digest('base64')}`);
    expect(h['x-webhook-signature']).toBe(createHmac('sha256', w.secret).update(got?.body ?? '').digest('hex'));
    const log = await body(await t.call('GET', `/api/v1/webhooks/${w.id}/deliveries`));
    expect(log.data.map((x: { id: string }) => x.id)).toEqual([d.id]);
  });

  it('records a failing receiver and a destination refused at delivery time as failed deliveries', async () => {
    loopbackAllowed();
    const w = (await body(await create({ ...valid, url: `http://127.0.0.1:${receiverPort}/broken` }))).data;
    expect((await body(await t.call('POST', `/api/v1/webhooks/${w.id}/test`))).data).toMatchObject({ status: 'failed', last_status_code: 500, response_excerpt: 'boom', last_error: 'HTTP 500' });
    // The admin removed loopback from the allow-list since: the dispatcher-time check refuses it.
    noAllowList();
    const before = received.length;
    const refused = (await body(await t.call('POST', `/api/v1/webhooks/${w.id}/test`))).data;
    expect(refused).toMatchObject({ status: 'failed', last_status_code: null });
    expect(refused.last_error).toMatch(/^refused: .*loopback/);
    expect(received.length).toBe(before);
    const failed = await body(await t.call('GET', `/api/v1/webhooks/${w.id}/deliveries?status=failed`));
    expect(failed.pagination.total).toBe(2);
    expect((await t.call('POST', `/api/v1/webhooks/${w.id}/test`, { key: t.otherAdminKey })).status).toBe(404);
  });
});

describe('event schema', () => {
  it('is published without credentials at /api/v1/events/schema', async () => {
    const res = await t.call('GET', '/api/v1/events/schema', { key: '' });
    expect(res.status).toBe(200);
    const schema = await body(res);
    const types = schema.oneOf.map((s: { properties: { type: { const: string } } }) => s.properties.type.const);
    expect(types).toEqual(expect.arrayContaining(['call.start', 'call.ended', 'extension.status', 'api.error', 'security.ban']));
  });
});
