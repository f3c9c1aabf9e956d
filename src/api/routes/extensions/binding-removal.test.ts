import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseEvent } from '../../../events/envelope.js';
import { listOutboxEvents } from '../../../store/index.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { bind, createExt, type TestApi } from './test-helpers.js';

/**
 * Bindings removed through the API (force-unregister, disabled or deleted extension, new
 * credentials) end with the same events as bindings that end over SIP: registration.expired
 * (reason removed) and the extension.status each causes, in the transaction of the removal, and
 * the dispatcher and /ws stream are woken after the commit.
 */
let t: TestApi;
let alice: { id: string; number: string };
let wakes: number;
beforeEach(async () => {
  t = await testApiWithStore();
  alice = await createExt(t, { number: '1001' });
  wakes = 0;
  t.resources.webhookDispatch = { wake: () => void wakes++ };
});
afterEach(async () => {
  vi.useRealTimers();
  await t.close();
});

/** The outbox events since the last call, parsed against their schemas. */
let seen = 0;
async function newEvents(): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const all = await listOutboxEvents(t.db, 1000);
  const fresh = all.filter((e) => e.sequence > seen);
  seen = all.at(-1)?.sequence ?? seen;
  return fresh.map((e) => parseEvent(JSON.parse(e.body)) as unknown as { type: string; data: Record<string, unknown> });
}
beforeEach(() => {
  seen = 0;
});

describe('bindings removed through the API emit events', () => {
  it('DELETE /registrations/{id}: registration.expired (removed), then unregistered only with the last binding', async () => {
    const desk = await bind(t, alice, { transport: 'udp' });
    const browser = await bind(t, alice, { transport: 'wss' });
    await newEvents();
    expect((await t.call('DELETE', `/api/v1/registrations/${desk.id}`)).status).toBe(204);
    expect(wakes).toBe(1);
    const first = await newEvents();
    expect(first.map((e) => e.type)).toEqual(['registration.expired', 'extension.status']);
    expect(first[0]!.data).toEqual({ registration_id: desk.id, extension_id: alice.id, extension: '1001', contact: desk.contactUri, reason: 'removed' });
    expect(first[1]!.data).toMatchObject({ extension_id: alice.id, previous_status: 'registered', current_status: 'registered', registered_contacts: 1, transport: 'udp' });

    expect((await t.call('DELETE', `/api/v1/registrations/${browser.id}`)).status).toBe(204);
    const second = await newEvents();
    expect(second.map((e) => e.type)).toEqual(['registration.expired', 'extension.status']);
    expect(second[1]!.data).toMatchObject({ previous_status: 'registered', current_status: 'unregistered', registered_contacts: 0, connection_type: 'wss' });

    // A 404 writes nothing and wakes no one.
    expect((await t.call('DELETE', `/api/v1/registrations/${browser.id}`)).status).toBe(404);
    expect(await newEvents()).toEqual([]);
    expect(wakes).toBe(2);
  });

  it('disabling the extension ends each live binding; an expired row gets no event', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await bind(t, alice);
    await bind(t, alice);
    await bind(t, alice, { expiresInSeconds: 1 });
    vi.setSystemTime(Date.now() + 2000);
    await newEvents();
    const res = await t.call('PATCH', `/api/v1/extensions/${alice.id}`, { body: { status: 'disabled' } });
    expect(res.status).toBe(200);
    const events = await newEvents();
    expect(events.map((e) => e.type)).toEqual(['registration.expired', 'extension.status', 'registration.expired', 'extension.status']);
    expect(events.filter((e) => e.type === 'extension.status').map((e) => e.data.current_status)).toEqual(['registered', 'unregistered']);
    expect(wakes).toBe(1);
    // A change that removes no binding writes no event and wakes no one.
    await t.call('PATCH', `/api/v1/extensions/${alice.id}`, { body: { name: 'Alice' } });
    expect(await newEvents()).toEqual([]);
    expect(wakes).toBe(1);
  });

  it('deleting the extension and regenerating its credentials end its bindings with events', async () => {
    await bind(t, alice);
    await newEvents();
    expect((await t.call('POST', `/api/v1/extensions/${alice.id}/credentials/regenerate`)).status).toBe(200);
    expect((await newEvents()).map((e) => [e.type, e.data.reason ?? e.data.current_status])).toEqual([['registration.expired', 'removed'], ['extension.status', 'unregistered']]);

    await bind(t, alice);
    await newEvents();
    expect((await t.call('DELETE', `/api/v1/extensions/${alice.id}`)).status).toBe(204);
    const events = await newEvents();
    expect(events.map((e) => [e.type, e.data.extension_id])).toEqual([['registration.expired', alice.id], ['extension.status', alice.id]]);
    expect(events[1]!.data.current_status).toBe('unregistered');
    expect(wakes).toBe(2);
    // The audit still counts the removed bindings.
    const audit = (await body(await t.call('GET', '/api/v1/audit?action=extension.deleted'))).data;
    expect(audit[0].details).toMatchObject({ bindings_removed: 1 });
  });
});
