import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { parseEvent } from '../../events/envelope.js';
import { createTenant, listOutboxEvents, RequestLogWriter, type RequestLogRecord, type Store } from '../../store/index.js';
import { openTestStore } from '../../store/test-helpers.js';
import { ApiErrorOutbox } from './api-error-outbox.js';

const log = pino({ level: 'silent' });
let store: Store;
let tenantId: string;
let woken: number;
let outbox: ApiErrorOutbox;

beforeEach(async () => {
  store = await openTestStore();
  tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test', tenantExternalId: 'acme-42' })).id;
  woken = 0;
  outbox = new ApiErrorOutbox({ clock: new FakeClock(Date.parse('2026-11-21T10:00:00.000Z')), log, onCommitted: () => woken++ });
});
afterEach(() => store.close());

const rec = (over: Partial<RequestLogRecord> = {}): RequestLogRecord => ({
  request_id: 'req-1', time: '2026-11-21T10:00:00.000Z', method: 'GET', path: '/api/v1/extensions/e9', route: '/api/v1/extensions/:id',
  status: 404, duration_ms: 1, tenant_id: tenantId, principal_id: 'key-1', error_code: 'EXTENSION_NOT_FOUND', ...over,
});
const writer = (events = outbox.events) => new RequestLogWriter(store.db, { flushIntervalMs: 60_000, events, onEventsCommitted: () => outbox.committed() });
const outboxEvents = async () => (await listOutboxEvents(store.db)).map((e) => parseEvent(JSON.parse(e.body)));
const logLines = async () => (await store.db.selectFrom('api_request_log').select('request_id').execute()).length;

describe('api.error through the request log writer', () => {
  it('a failed request of a tenant becomes api.error in the batch transaction, with the route pattern and no query string', async () => {
    const w = writer();
    w.record(rec());
    w.record(rec({ request_id: 'req-2', status: 200, error_code: undefined }));
    w.record(rec({ request_id: 'req-3', method: 'POST', status: 422, route: undefined, path: '/api/v1/nowhere?api_key=sk_live_abc', error_code: undefined, principal_id: undefined }));
    await w.flush();
    const events = await outboxEvents();
    expect(events.map((e) => e.data)).toEqual([
      { request_id: 'req-1', endpoint: '/api/v1/extensions/:id', method: 'GET', status_code: 404, error_code: 'EXTENSION_NOT_FOUND', principal_id: 'key-1' },
      { request_id: 'req-3', endpoint: '/api/v1/nowhere', method: 'POST', status_code: 422, error_code: null, principal_id: null },
    ]);
    expect(events[0]).toMatchObject({ type: 'api.error', tenant_id: tenantId, tenant_external_id: 'acme-42', timestamp: '2026-11-21T10:00:00.000Z' });
    expect(JSON.stringify(events)).not.toContain('sk_live');
    expect(await logLines()).toBe(3);
    expect(woken).toBe(1);
  });

  it('a request with no tenant (401 before authentication) is logged but makes no event, and wakes nobody', async () => {
    const w = writer();
    w.record(rec({ status: 401, tenant_id: undefined, principal_id: undefined, error_code: 'UNAUTHENTICATED' }));
    await w.flush();
    expect(await outboxEvents()).toEqual([]);
    expect(await logLines()).toBe(1);
    expect(woken).toBe(0);
  });

  it('a batch whose transaction fails writes neither its log lines nor its events', async () => {
    // The second flush repeats the first event's id: the outbox insert fails and the batch rolls back.
    let firstId: string | undefined;
    const w = writer(async (records, trx) => {
      const events = await outbox.events(records, trx);
      if (firstId === undefined) firstId = events[0]?.id;
      else return events.map((e) => ({ ...e, id: firstId! }));
      return events;
    });
    w.record(rec());
    await w.flush();
    w.record(rec({ request_id: 'req-2' }));
    await w.flush();
    expect((await outboxEvents()).map((e) => (e.data as { request_id: string }).request_id)).toEqual(['req-1']);
    expect(await logLines()).toBe(1);
  });
});
