import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { RingPlan, RingStep, RouteDecision } from '../../sip/calls/ports.js';
import { createExtension, updateExtension, type ExtensionFields, type Store } from '../../store/index.js';
import { openTestStoreWithTenant, testSecretKey } from '../../store/test-helpers.js';
import { defaultDialplanPath, loadDialplan, parseDialplan } from './load-dialplan.js';
import type { RingGroupResolver } from './ring-group-port.js';
import { createCallRouter } from './router.js';
import { singleStepPlan } from './ring-plans.js';
import { simulateDecision } from './simulate.js';

const key = testSecretKey();
let store: Store;
let tenantId: string;
let active: Map<string, number>;
let groups: RingGroupResolver | undefined;
const ids: Record<string, string> = {};

async function ext(number: string, fields: ExtensionFields = {}) {
  const { extension } = await createExtension(store.db, key, { tenantId, number, displayName: `Ext ${number}`, ...fields });
  ids[number] = extension.id;
  return extension;
}
const set = (number: string, fields: ExtensionFields) => updateExtension(store.db, key, tenantId, ids[number] ?? '', fields);

function router(dialplan = loadDialplan(defaultDialplanPath())) {
  return createCallRouter({
    db: store.db,
    clock: new FakeClock(),
    log: pino({ level: 'silent' }),
    dialplan,
    calls: { activeCallCount: (id) => active.get(id) ?? 0 },
    ringGroups: groups,
  });
}
const route = (dialed: string, from = '1001', at = Date.parse('2026-11-23T10:00:00Z')) =>
  router().route({ tenantId, callerExtensionId: ids[from] ?? 'nobody', dialed, at });

/** The steps as "number/timeout", ending with the final status, every step unanswered with `outcome`. */
async function walk(decision: RouteDecision, outcomes: Array<{ sipStatus: number; timedOut: boolean }>): Promise<string[]> {
  if (decision.kind !== 'ring') throw new Error(`expected ring, got ${decision.kind}`);
  const byId = new Map(Object.entries(ids).map(([n, id]) => [id, n]));
  const seen: string[] = [];
  let next = await decision.plan.first();
  for (const outcome of outcomes) {
    if (next.kind === 'end') break;
    seen.push(`${next.extensionIds.map((id) => byId.get(id)).join('+')}/${next.timeoutMs ?? '-'}`);
    next = await decision.plan.next(outcome);
  }
  if (next.kind === 'step') seen.push(`${next.extensionIds.map((id) => byId.get(id)).join('+')}/${next.timeoutMs ?? '-'}`);
  else seen.push(`end ${next.sipStatus}`);
  return seen;
}
const busy = { sipStatus: 486, timedOut: false };
const timeout = { sipStatus: 480, timedOut: true };

beforeEach(async () => {
  ({ store, tenantId } = await openTestStoreWithTenant());
  active = new Map();
  groups = undefined;
  await ext('1001');
  await ext('1002', { callerIdName: 'Bob' });
  await ext('1003');
});
afterEach(() => store.close());

describe('router: plain numbers', () => {
  it('rings a known extension with its party info; the callee is what was dialled', async () => {
    const d = await route('1002');
    expect(d).toMatchObject({ kind: 'ring', callee: { number: '1002', name: 'Bob', extensionId: ids['1002'] }, ringTimeoutMs: null });
    expect(await walk(d, [timeout])).toEqual(['1002/-', 'end 480']);
    expect(d.trace.map((t) => t.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/rule internal .*matched → local/)]));
  });

  it('rejects unknown (404), disabled (404), undialable (404), self (486), numbers no rule matches (404)', async () => {
    await set('1003', { status: 'disabled' });
    expect(await route('1999')).toMatchObject({ kind: 'reject', sipStatus: 404, reason: '1999 is no extension or ring group' });
    expect(await route('1003')).toMatchObject({ kind: 'reject', sipStatus: 404, callee: { extensionId: ids['1003'] } });
    expect(await route('10 02')).toMatchObject({ kind: 'reject', sipStatus: 404, reason: 'not a dialable number' });
    expect(await route('1001')).toMatchObject({ kind: 'reject', sipStatus: 486, reason: 'extension 1001 called itself' });
    expect(await route('*55')).toMatchObject({ kind: 'reject', sipStatus: 404, reason: 'no dialplan rule matches' });
  });

  it('refuses a caller that is gone or disabled (403)', async () => {
    expect(await route('1002', 'ghost')).toMatchObject({ kind: 'reject', sipStatus: 403 });
    await set('1001', { status: 'disabled' });
    expect(await route('1002')).toMatchObject({ kind: 'reject', sipStatus: 403 });
  });

  it('unescapes the user part (%2A78 is *78)', async () => {
    expect(await route('%2A78')).toMatchObject({ kind: 'feature', code: '*78' });
  });
});

describe('router: forwarding and DND', () => {
  it('forward always rings the target instead, keeping the dialled callee', async () => {
    await set('1002', { forward: { always: '1003' } });
    const d = await route('1002');
    expect(d).toMatchObject({ kind: 'ring', callee: { number: '1002', extensionId: ids['1002'] } });
    expect(await walk(d, [timeout])).toEqual(['1003/-', 'end 480']);
  });

  it('DND answers 486, or forwards on busy when set', async () => {
    await set('1002', { dnd: true });
    expect(await route('1002')).toMatchObject({ kind: 'reject', sipStatus: 486, reason: 'extension 1002: do not disturb is on' });
    await set('1002', { dnd: true, forward: { busy: '1003' } });
    expect(await walk(await route('1002'), [timeout])).toEqual(['1003/-', 'end 480']);
  });

  it('an extension at its call limit is busy → forward on busy', async () => {
    active.set(ids['1002'] ?? '', 2);
    expect(await route('1002')).toMatchObject({ kind: 'reject', sipStatus: 486, reason: 'extension 1002: at its call limit (2 of 2)' });
    await set('1002', { forward: { busy: '1003' } });
    expect(await walk(await route('1002'), [timeout])).toEqual(['1003/-', 'end 480']);
  });

  it('rings for no_answer_seconds, then the no-answer target; a 486 goes to the busy target', async () => {
    await ext('1004');
    await set('1002', { forward: { noAnswer: '1003', noAnswerSeconds: 2, busy: '1004' } });
    const d = await route('1002');
    expect(d).toMatchObject({ kind: 'ring', ringTimeoutMs: 2000 + 45_000 });
    expect(await walk(d, [timeout, timeout])).toEqual(['1002/2000', '1003/-', 'end 480']);
    expect(await walk(await route('1002'), [busy, timeout])).toEqual(['1002/2000', '1004/-', 'end 480']);
    // Any other failure (a 603 decline) ends the call with it: it is neither busy nor no answer.
    expect(await walk(await route('1002'), [{ sipStatus: 603, timedOut: false }])).toEqual(['1002/2000', 'end 603']);
  });

  it('an unregistered extension (480 without timeout) forwards on no answer', async () => {
    await set('1002', { forward: { noAnswer: '1003' } });
    expect(await walk(await route('1002'), [{ sipStatus: 480, timedOut: false }, timeout])).toEqual(['1002/20000', '1003/-', 'end 480']);
  });

  it('a forward target that refuses ends the call with its status (DND target → 486)', async () => {
    await set('1002', { forward: { noAnswer: '1003' } });
    await set('1003', { dnd: true });
    expect(await walk(await route('1002'), [timeout])).toEqual(['1002/20000', 'end 486']);
  });

  it('stops forwarding loops and says why', async () => {
    await set('1002', { forward: { always: '1003' } });
    await set('1003', { forward: { always: '1002' } });
    const d = await route('1002');
    // 1003's forward back to 1002 is not followed: 1003 rings.
    expect(await walk(d, [timeout])).toEqual(['1003/-', 'end 480']);
    expect(d.trace.map((t) => t.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/1003 forwards always → 1002 not followed: extension 1002 is already on this call's path/)]));
  });

  it('does not forward back to the caller, and follows at most 5 hops', async () => {
    await set('1002', { forward: { always: '1001' } });
    expect(await walk(await route('1002'), [timeout])).toEqual(['1002/-', 'end 480']);
    for (let n = 2000; n < 2008; n++) await ext(String(n), { forward: { always: String(n + 1) } });
    const d = await route('2000');
    expect(await walk(d, [timeout])).toEqual(['2005/-', 'end 480']);
    expect(d.trace.map((t) => t.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/2005 forwards always → 2006 not followed: more than 5 forwards/)]));
  });

  it('ignores a forward to a number that does not exist, and rings the extension itself', async () => {
    await set('1002', { forward: { always: '1999' } });
    expect(await walk(await route('1002'), [timeout])).toEqual(['1002/-', 'end 480']);
  });
  it('never follows a forward to a feature code', async () => {
    await set('1002', { forward: { always: '*78' } });
    const d = await route('1002');
    expect(await walk(d, [timeout])).toEqual(['1002/-', 'end 480']);
    expect(d.trace.map((t) => t.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/→ \*78 not followed: a feature code cannot be a forward target/)]));
  });
});

describe('router: ring groups and time conditions', () => {
  it('asks the resolver when no extension has the number, and routes its fallback when the plan ends', async () => {
    groups = {
      resolve: async (_t, number) =>
        number === '600'
          ? { callee: { number: '600', name: 'Sales', extensionId: null }, plan: singleStepPlan({ extensionIds: [ids['1002'] ?? ''], timeoutMs: 5000, reason: 'group 600' }), fallbackNumber: '1003', ringTimeoutMs: 5000, trace: [{ step: 'ring-group', detail: 'sales' }] }
          : undefined,
    };
    const d = await route('600');
    expect(d).toMatchObject({ kind: 'ring', callee: { number: '600', name: 'Sales' }, ringTimeoutMs: 50_000 });
    expect(await walk(d, [timeout, timeout])).toEqual(['1002/5000', '1003/-', 'end 480']);
  });

  it('stops a ring group whose fallback leads back to itself', async () => {
    groups = {
      resolve: async (_t, number) =>
        number === '600' ? { callee: { number: '600', name: 'Loop', extensionId: null }, plan: singleStepPlan({ extensionIds: [ids['1002'] ?? ''], timeoutMs: 1000, reason: 'group 600' }), fallbackNumber: '600', ringTimeoutMs: 1000, trace: [] } : undefined,
    };
    const d = await route('600');
    expect(await walk(d, [timeout])).toEqual(['1002/1000', 'end 480']);
    expect(d.trace.map((t) => t.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/fallback → 600 not followed: ring group 600 is already on this call's path/)]));
  });

  it('a rule limited to a time condition applies only then', async () => {
    const plan = parseDialplan(
      {
        version: 1,
        time_conditions: { office: { timezone: 'UTC', ranges: [{ days: ['mon'], from: '08:00', to: '18:00' }] } },
        rules: [
          { name: 'closed', match: '^1002$', unless: 'office', action: { type: 'reject', sip_status: 480, reason: 'closed' } },
          { name: 'internal', match: '^[0-9]+$', action: { type: 'local' } },
        ],
      },
      't.json',
    );
    const r = router(plan);
    const at = (iso: string) => r.route({ tenantId, callerExtensionId: ids['1001'] ?? '', dialed: '1002', at: Date.parse(iso) });
    expect((await at('2026-11-23T10:00:00Z')).kind).toBe('ring');
    expect(await at('2026-11-23T20:00:00Z')).toMatchObject({ kind: 'reject', sipStatus: 480, reason: 'closed' });
  });
});

describe('simulateDecision', () => {
  it('walks a plan unanswered to its end', async () => {
    await set('1002', { forward: { noAnswer: '1003', noAnswerSeconds: 10 } });
    const sim = await simulateDecision(await route('1002'));
    expect(sim).toMatchObject({ decision: 'ring', sipStatus: 480, steps: [{ extensionIds: [ids['1002']], timeoutMs: 10_000 }, { extensionIds: [ids['1003']], timeoutMs: null }] });
    expect(sim.trace.map((t) => t.detail)).toEqual(expect.arrayContaining([expect.stringMatching(/forward on no answer → 1003/)]));
  });

  it('stops an endless plan', async () => {
    const endless: RingPlan = { first: async (): Promise<RingStep> => ({ kind: 'step', extensionIds: [], timeoutMs: 1, reason: 'again' }), next: async () => ({ kind: 'step', extensionIds: [], timeoutMs: 1, reason: 'again' }), answered: () => {} };
    const sim = await simulateDecision({ kind: 'ring', callee: { number: '1', name: null, extensionId: null }, plan: endless, trace: [], ringTimeoutMs: null });
    expect(sim.steps).toHaveLength(50);
    expect(sim.sipStatus).toBeNull();
  });
});
