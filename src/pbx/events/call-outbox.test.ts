import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { parseEvent } from '../../events/envelope.js';
import { EventBus } from '../../events/event-bus.js';
import type { PbxEvents } from '../../events/pbx-events.js';
import { createCall, createTenant, listOutboxEvents, type Store } from '../../store/index.js';
import { openTestStore } from '../../store/test-helpers.js';
import { CallService } from '../calls/call-service.js';
import { CallOutbox } from './call-outbox.js';

const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const log = pino({ level: 'silent' });
let store: Store;
let tenantId: string;
let woken: number;

beforeEach(async () => {
  store = await openTestStore();
  tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test', tenantExternalId: 'acme-42' })).id;
  woken = 0;
});
afterEach(() => store.close());

function service(clock: FakeClock): CallService {
  return new CallService({
    db: store.db, bus: new EventBus<PbxEvents>(), clock, instanceId: 'inst-1', log, ringTimeoutMs: 30_000, maxCallsPerExtension: 4,
    outbox: new CallOutbox({ db: store.db, clock, log, onCommitted: () => woken++ }),
  });
}
const outboxEvents = async () => (await listOutboxEvents(store.db)).map((e) => parseEvent(JSON.parse(e.body)));

describe('CallOutbox through CallService', () => {
  it('envelopes carry the tenant external id and event times; a refused call still says start and ended', async () => {
    const clock = new FakeClock(t0);
    const calls = service(clock);
    const party = { number: '1001', name: null, extensionId: 'ext-a' };
    await calls.startCall({ tenantId, direction: 'internal', caller: party, callee: { ...party, number: '1002', extensionId: 'ext-b' }, limits: { callee: 0 } });
    const events = await outboxEvents();
    expect(events.map((e) => e.type)).toEqual(['call.start', 'call.ended']);
    expect(events.every((e) => e.tenant_external_id === 'acme-42' && e.timestamp === '2026-11-21T10:00:00.000Z')).toBe(true);
    expect(events[1]!.data).toMatchObject({ disposition: 'busy', sip_status: 486, callee_number: '1002' });
    expect(woken).toBe(2);
  });

  it('a call a crashed run left open ends as interrupted, with its call.ended in the outbox', async () => {
    await createCall(store.db, { tenantId, direction: 'inbound', callerNumber: '+15550100', calleeNumber: '1001', instanceId: 'inst-1', startedAt: '2026-11-21T09:59:00.000Z' });
    const calls = service(new FakeClock(t0));
    expect(await calls.recoverInterruptedCalls()).toBe(1);
    const [ended] = await outboxEvents();
    expect(ended).toMatchObject({ type: 'call.ended', data: { disposition: 'interrupted', hangup_cause: 'SYSTEM_SHUTDOWN', duration_seconds: 60 } });
    expect(woken).toBe(1);
  });
});
