import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { FakeClock } from '../../test/support/fake-clock.js';
import type { Resolver } from '../events/webhooks/webhook-target.js';
import { EventBus } from '../events/event-bus.js';
import type { PbxEvents } from '../events/pbx-events.js';
import { CallService } from '../pbx/calls/call-service.js';
import { ApiErrorOutbox } from '../pbx/events/api-error-outbox.js';
import { LiveCalls } from '../pbx/calls/live-calls.js';
import { wallClock } from '../shared/clock.js';
import { RequestLogWriter, createApiKey, createTenant } from '../store/index.js';
import { openTestStore, testSecretKey } from '../store/test-helpers.js';
import { apiKeyAuth } from './api-key-auth.js';
import { sessionBearerResolver } from './auth/session-resolver.js';
import { createApi, type ApiDeps } from './app.js';
import type { ResourceDeps } from './resources.js';
import { SqliteIdempotencyStore } from './sqlite-idempotency.js';

/** A logger whose JSON lines are kept in `lines`, so tests can assert what was (not) logged. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** The API under test with a fake clock and captured logs; `overrides` replace any dependency. */
export function testApi(overrides: Partial<ApiDeps> = {}) {
  const clock = new FakeClock();
  const { logger, lines } = captureLogger();
  const app = createApi({ logger, version: '9.9.9-test', clock, rateLimit: false, ...overrides });
  return { app, clock, lines };
}

/** A resolver for webhook URLs in tests: `*.example.{com,org,net}` → a public address, else not found. */
export const testResolver: Resolver = async (host) => {
  if (/(^|\.)example\.(com|org|net)\.?$/i.test(host)) return [{ address: '93.184.215.14', family: 4 }];
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
};

/** Any JSON body, loosely typed for assertions (`Response.json()` is `unknown` under strict lib types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function body(res: Response): Promise<any> {
  return res.json();
}

/**
 * The API as main.ts builds it — real SQLite (in memory), real migrations, API-key auth, SQLite
 * idempotency, every resource route — with tenant "Acme" and helpers to mint keys, plus a second
 * tenant "Other" for cross-tenant (404) checks.
 */
export async function testApiWithStore(overrides: Partial<ApiDeps> = {}, options: { dbPath?: string; apiErrorEvents?: boolean } = {}) {
  const store = await openTestStore(options.dbPath);
  const secretKey = testSecretKey();
  const tenant = await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test' });
  // The primary tenant is the earliest created_at; a tick between the two keeps Acme first.
  await new Promise((resolve) => setTimeout(resolve, 2));
  const otherTenant = await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' });
  // The call service as main.ts builds it, on this store; its ring timers run on a clock of their
  // own that only a test advances. Calls are started on it directly (no SIP here), and
  // `liveCalls.useOriginator` plays the SIP side of click-to-call.
  const callClock = new FakeClock(Date.now());
  const callService = new CallService({
    db: store.db, bus: new EventBus<PbxEvents>(), clock: callClock, instanceId: 'test', log: pino({ level: 'silent' }), ringTimeoutMs: 45_000, maxCallsPerExtension: 4,
  });
  const liveCalls = new LiveCalls(callService);
  // The read cache as main.ts wires it (writes through this store invalidate it at once).
  // Webhook URLs resolve without real DNS: names under example.com/.org/.net get a public address
  // (example.com's own), anything else fails like NXDOMAIN. Tests swap `resources.webhooks` to allow-list loopback.
  const resources: ResourceDeps = { db: store.db, secretKey, clock: wallClock, changeCounter: store.changeCounter, webhooks: { resolve: testResolver }, calls: liveCalls };
  // The SQLite request log as main.ts wires it; tests call `requestLog.flush()` before reading it.
  // With `apiErrorEvents`, failed requests also write api.error to the outbox, as main.ts wires it.
  const apiErrors = options.apiErrorEvents ? new ApiErrorOutbox({ clock: wallClock, log: pino({ level: 'silent' }) }) : undefined;
  const requestLog = new RequestLogWriter(store.db, apiErrors ? { events: apiErrors.events } : {});
  const t = testApi({
    // Session tokens (sbt_) resolve as in main.ts, so login → bearer works in tests too.
    auth: apiKeyAuth({ db: store.db, resolveBearer: sessionBearerResolver({ db: store.db, clock: wallClock }) }),
    idempotency: new SqliteIdempotencyStore(store.db, { secretKey }),
    requestLog,
    resources,
    ...overrides,
  });
  /** A fresh key of `tenantId` (default Acme) with these scopes. */
  const keyFor = async (scopes: string[], tenantId = tenant.id) => (await createApiKey(store.db, { tenantId, name: `test ${scopes.join(' ')}`, scopes })).key;
  const adminKey = await keyFor(['admin']);
  const otherAdminKey = await keyFor(['admin'], otherTenant.id);
  /** `app.request` with a key and a JSON body. */
  const call = (method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    t.app.request(path, {
      method,
      headers: {
        ...(opts.key === undefined ? { 'X-API-Key': adminKey } : opts.key === '' ? {} : { 'X-API-Key': opts.key }),
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }),
    });
  const close = async () => {
    await requestLog.close();
    await store.close();
  };
  return { ...t, store, db: store.db, secretKey, resources, callService, callClock, liveCalls, requestLog, tenant, otherTenant, adminKey, otherAdminKey, keyFor, call, close };
}
