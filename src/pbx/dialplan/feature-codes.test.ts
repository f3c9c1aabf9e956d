import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { RouteDecision } from '../../sip/calls/ports.js';
import { createExtension, getExtension, listAudit, updateExtension, type Store } from '../../store/index.js';
import { openTestStoreWithTenant, testSecretKey } from '../../store/test-helpers.js';
import { defaultDialplanPath, loadDialplan } from './load-dialplan.js';
import { createCallRouter } from './router.js';

const key = testSecretKey();
let store: Store;
let tenantId: string;
let callerId: string;

const route = (dialed: string) =>
  createCallRouter({ db: store.db, clock: new FakeClock(), log: pino({ level: 'silent' }), dialplan: loadDialplan(defaultDialplanPath()), calls: { activeCallCount: () => 0 }, ringGroups: undefined }).route({
    tenantId,
    callerExtensionId: callerId,
    dialed,
    at: 0,
  });
async function run(decision: RouteDecision) {
  if (decision.kind !== 'feature') throw new Error(`expected a feature, got ${decision.kind}`);
  return decision.run();
}
const caller = () => getExtension(store.db, tenantId, callerId);

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
  callerId = (await createExtension(store.db, key, { tenantId, number: '1001' })).extension.id;
});
afterEach(() => store.close());

describe('feature codes', () => {
  it('*78 / *79 turn the caller’s DND on and off, with an audit entry like the API’s', async () => {
    const on = await route('*78');
    expect(on).toMatchObject({ kind: 'feature', code: '*78', callee: { number: '*78', name: 'Do not disturb on', extensionId: null } });
    // Routing alone changes nothing (routing/simulate relies on it).
    expect((await caller()).dnd).toBe(false);
    expect(await run(on)).toEqual({ ok: true });
    expect((await caller()).dnd).toBe(true);
    expect(await run(await route('*79'))).toEqual({ ok: true });
    expect((await caller()).dnd).toBe(false);
    const audit = (await listAudit(store.db, tenantId, { action: 'extension.updated' })).items;
    expect(audit[0]).toMatchObject({ actorType: 'extension', actorId: callerId, targetId: callerId, details: { fields: ['dnd'], source: 'feature_code' } });
  });

  it('*72<number> sets forward always, keeping the other forward settings; *73 clears it', async () => {
    await updateExtension(store.db, key, tenantId, callerId, { forward: { busy: '1005', noAnswerSeconds: 15 } });
    expect(await run(await route('*721003'))).toEqual({ ok: true });
    expect((await caller()).forward).toEqual({ always: '1003', busy: '1005', noAnswerSeconds: 15 });
    expect(await run(await route('*73'))).toEqual({ ok: true });
    expect((await caller()).forward).toEqual({ always: null, busy: '1005', noAnswerSeconds: 15 });
  });

  it('refuses a forward to oneself (482) and answers *97 with 501 until voicemail exists', async () => {
    expect(await route('*721001')).toMatchObject({ kind: 'reject', sipStatus: 482 });
    const vm = await route('*97');
    expect(vm).toMatchObject({ kind: 'reject', sipStatus: 501, reason: 'voicemail is not available yet' });
    expect(vm.trace.at(-1)?.detail).toMatch(/not available yet/);
  });

  it('reports a failed write as a value, not an exception', async () => {
    const decision = await route('*78');
    await store.close();
    expect(await run(decision)).toMatchObject({ ok: false, sipStatus: 500 });
    // Reopen for afterEach.
    ({ store, tenantId } = await openTestStoreWithTenant());
  });
});
