import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeEvent } from '../../events/envelope.js';
import { appendOutboxEvents, createTenant, inTransaction, listOutboxEventsAfter, type Store } from '../../store/index.js';
import { openTestStore } from '../../store/test-helpers.js';
import { OutboxWindows } from './outbox-window.js';

let store: Store;
let tenants: string[];
beforeEach(async () => {
  store = await openTestStore();
  tenants = [(await createTenant(store.db, { name: 'A', sipDomain: 'a.test' })).id, (await createTenant(store.db, { name: 'B', sipDomain: 'b.test' })).id];
});
afterEach(() => store.close());

const append = (n: number) =>
  inTransaction(store.db, (trx) =>
    appendOutboxEvents(trx, Array.from({ length: n }, (_, i) => makeEvent('call.ringing', { tenantId: tenants[i % 3 === 0 ? 1 : 0]!, tenantExternalId: null, data: { call_id: `c${i}`, extension_id: null } }))),
  );
const ids = (events: { eventId: string }[]) => events.map((e) => e.eventId);

describe('outbox windows (the recent events shared by a tenant\'s endpoints)', () => {
  it.each([4000, 50])('answers every read exactly as the store does, for endpoints at different places, while events keep coming (window of %i)', async (size) => {
    const windows = new OutboxWindows(size);
    const cursors = [0, 0, 0, 0];
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 300; round++) {
      if (random(3) === 0) await append(1 + random(40));
      const i = random(cursors.length);
      const tenantId = tenants[i % 2]!;
      const limit = 1 + random(60);
      // Now and then an endpoint falls back (a redelivered old page) or jumps ahead.
      if (random(10) === 0) cursors[i] = random(Math.max(1, cursors[i]!));
      const [got, want] = await Promise.all([windows.read(store.db, tenantId, cursors[i]!, limit), listOutboxEventsAfter(store.db, cursors[i]!, { tenantId, limit })]);
      expect(ids(got)).toEqual(ids(want));
      cursors[i] = got.at(-1)?.sequence ?? cursors[i]!;
    }
  });

  it('two endpoints extending the window at the same time do not duplicate events in it', async () => {
    const windows = new OutboxWindows();
    const [tenantId] = tenants;
    await append(6);
    await windows.read(store.db, tenantId!, 0, 1);
    await append(30);
    const [a, b] = await Promise.all([windows.read(store.db, tenantId!, 0, 50), windows.read(store.db, tenantId!, 0, 50)]);
    const want = ids(await listOutboxEventsAfter(store.db, 0, { tenantId: tenantId!, limit: 50 }));
    expect(ids(a)).toEqual(want);
    expect(ids(b)).toEqual(want);
    expect(ids(await windows.read(store.db, tenantId!, 0, 50))).toEqual(want);
  });

  it('with commit generations: answers as the store does when every commit is announced, and asks the store for the tail once per announced commit', async () => {
    const windows = new OutboxWindows(50);
    const cursors = [0, 0, 0, 0];
    let generation = 0;
    let seed = 11;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 300; round++) {
      if (random(3) === 0) {
        await append(1 + random(40));
        generation++;
      }
      const i = random(cursors.length);
      const tenantId = tenants[i % 2]!;
      const limit = 1 + random(60);
      if (random(10) === 0) cursors[i] = random(Math.max(1, cursors[i]!));
      const [got, want] = await Promise.all([windows.read(store.db, tenantId, cursors[i]!, limit, generation), listOutboxEventsAfter(store.db, cursors[i]!, { tenantId, limit })]);
      expect(ids(got)).toEqual(ids(want));
      cursors[i] = got.at(-1)?.sequence ?? cursors[i]!;
    }

    // A commit not announced yet is not asked for by a read at the head; its announcement makes the next read ask.
    const [tenantId] = tenants;
    const head = (await listOutboxEventsAfter(store.db, 0, { tenantId: tenantId!, limit: 100_000 })).at(-1)!.sequence;
    expect(await windows.read(store.db, tenantId!, head, 10, generation)).toEqual([]);
    await append(3);
    expect(await windows.read(store.db, tenantId!, head, 10, generation)).toEqual([]);
    const fresh = ids(await listOutboxEventsAfter(store.db, head, { tenantId: tenantId!, limit: 10 }));
    expect(fresh.length).toBeGreaterThan(0);
    expect(ids(await windows.read(store.db, tenantId!, head, 10, generation + 1))).toEqual(fresh);
  });
});
