import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { parseEvent } from '../../events/envelope.js';
import { listOutboxEvents, type Store } from '../../store/index.js';
import { openTestStoreWithTenant } from '../../store/test-helpers.js';
import { SecurityOutbox } from './security-outbox.js';

let store: Store;
let tenantId: string;
beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
});
afterEach(() => store.close());

describe('SecurityOutbox', () => {
  it('writes security.ban for the operator tenant and wakes the dispatcher', async () => {
    let woken = 0;
    const t0 = Date.parse('2026-11-21T10:00:00.000Z');
    const outbox = new SecurityOutbox({ db: store.db, clock: new FakeClock(t0), log: pino({ level: 'silent' }), tenantId, onCommitted: () => woken++ });
    await outbox.sipBan({ source: '203.0.113.9', failures: 10, until: t0 + 300_000 });
    const [row] = await listOutboxEvents(store.db);
    expect(parseEvent(JSON.parse(row!.body))).toMatchObject({
      type: 'security.ban', tenant_id: tenantId,
      data: { ip: '203.0.113.9', source: 'sip', failures: 10, banned_until: '2026-11-21T10:05:00.000Z' },
    });
    expect(woken).toBe(1);
  });

  it('never throws: a closed store is logged', async () => {
    const outbox = new SecurityOutbox({ db: store.db, clock: new FakeClock(0), log: pino({ level: 'silent' }), tenantId });
    await store.close();
    await expect(outbox.sipBan({ source: '203.0.113.9', failures: 10, until: 0 })).resolves.toBeUndefined();
  });
});
