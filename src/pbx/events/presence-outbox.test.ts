import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { parseEvent } from '../../events/envelope.js';
import { EventBus } from '../../events/event-bus.js';
import type { PbxEvents } from '../../events/pbx-events.js';
import { createExtension, createTenant, listOutboxEvents, type Store } from '../../store/index.js';
import { openTestStore, testSecretKey } from '../../store/test-helpers.js';
import { CallService } from '../calls/call-service.js';
import { CallOutbox } from './call-outbox.js';

const log = pino({ level: 'silent' });
let store: Store;
let tenantId: string;
let aliceId: string;
let bobId: string;

beforeEach(async () => {
  store = await openTestStore();
  tenantId = (await createTenant(store.db, { name: 'Acme', sipDomain: 'acme.test' })).id;
  aliceId = (await createExtension(store.db, testSecretKey(), { tenantId, number: '1001' })).extension.id;
  bobId = (await createExtension(store.db, testSecretKey(), { tenantId, number: '1002' })).extension.id;
});
afterEach(() => store.close());

function service(): CallService {
  const clock = new FakeClock(Date.parse('2026-11-21T10:00:00.000Z'));
  return new CallService({
    db: store.db, bus: new EventBus<PbxEvents>(), clock, instanceId: 'inst-1', log, ringTimeoutMs: 30_000, maxCallsPerExtension: 4,
    outbox: new CallOutbox({ db: store.db, clock, log }),
  });
}
const statuses = async () =>
  (await listOutboxEvents(store.db)).map((e) => parseEvent(JSON.parse(e.body))).filter((e) => e.type === 'extension.status').map((e) => e.data);

describe('extension.status call presence in the outbox', () => {
  it('in_call at an extension’s first live call and idle after its last, with the extension number and no connection fields', async () => {
    const calls = service();
    const alice = { number: '1001', name: null, extensionId: aliceId };
    const bob = { number: '1002', name: null, extensionId: bobId };
    const first = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: bob });
    const second = await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: { number: '5550100', name: null, extensionId: null } });
    await calls.answer(first.callId, bobId);
    await calls.apply(first.callId, { type: 'hangup' });
    await calls.apply(second.callId, { type: 'cancel' });
    const none = { connection_type: null, transport: null, registration_ip: null, registration_port: null };
    expect(await statuses()).toEqual([
      { extension_id: aliceId, extension: '1001', previous_status: 'idle', current_status: 'in_call', active_calls: 1, ...none },
      { extension_id: bobId, extension: '1002', previous_status: 'idle', current_status: 'in_call', active_calls: 1, ...none },
      { extension_id: bobId, extension: '1002', previous_status: 'in_call', current_status: 'idle', active_calls: 0, ...none },
      { extension_id: aliceId, extension: '1001', previous_status: 'in_call', current_status: 'idle', active_calls: 0, ...none },
    ]);
  });

  it('a refused call (never counted) makes no presence event', async () => {
    const calls = service();
    const alice = { number: '1001', name: null, extensionId: aliceId };
    await calls.startCall({ tenantId, direction: 'internal', caller: alice, callee: { number: '1002', name: null, extensionId: bobId }, limits: { callee: 0 } });
    expect(await statuses()).toEqual([]);
  });
});
