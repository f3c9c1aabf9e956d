/**
 * A ring group as the dialplan routes it, seen through `POST /api/v1/routing/simulate`: the router
 * (src/pbx/dialplan) with the ring-group resolver (src/pbx/ring-groups) as main.ts wires them, so
 * the strategy's steps, the skips and the fallback show without placing a call.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDialplanPath, loadDialplan } from '../../../pbx/dialplan/load-dialplan.js';
import { createCallRouter } from '../../../pbx/dialplan/router.js';
import { createRingGroupResolver } from '../../../pbx/ring-groups/index.js';
import { wallClock } from '../../../shared/clock.js';
import { body, testApiWithStore } from '../../test-helpers.js';
import { createExt, type TestApi } from '../extensions/test-helpers.js';

let t: TestApi;
const counts: Record<string, number> = {};
const ext: Record<string, { id: string }> = {};
beforeEach(async () => {
  t = await testApiWithStore();
  const log = pino({ level: 'silent' });
  const calls = { activeCallCount: (id: string) => counts[id] ?? 0 };
  const ringGroups = createRingGroupResolver({ db: t.db, clock: wallClock, log, calls });
  t.resources.router = createCallRouter({ db: t.db, clock: wallClock, log, dialplan: loadDialplan(defaultDialplanPath()), calls, ringGroups, defaultRingTimeoutMs: 30_000 });
  for (const number of ['1001', '1002', '1003', '1004', '1009']) ext[number] = await createExt(t, { number, max_concurrent_calls: 1 });
});
afterEach(() => t.close());

const group = async (fields: Record<string, unknown>) => {
  const res = await t.call('POST', '/api/v1/ring-groups', { body: { number: '600', name: 'Sales', ...fields } });
  expect(res.status).toBe(201);
  return (await body(res)).data;
};
const simulate = async (to = '600') => (await body(await t.call('POST', '/api/v1/routing/simulate', { body: { from: '1009', to } }))).data;
const stepNumbers = (data: { steps: Array<{ extension_numbers: string[] }> }) => data.steps.map((s) => s.extension_numbers);

describe('ring groups through the dialplan (routing/simulate)', () => {
  it('sequential with a fallback: each member for its time, then the fallback; the group is the callee', async () => {
    await group({ strategy: 'sequential', ring_timeout_seconds: 40, fallback_number: '1004', members: [{ extension_id: ext['1002']!.id, timeout_seconds: 5 }, { extension_id: ext['1001']!.id }] });
    const data = await simulate();
    expect(data).toMatchObject({ decision: 'ring', callee: { number: '600', name: 'Sales', extension_id: null }, ring_timeout_ms: 70_000 });
    expect(stepNumbers(data)).toEqual([['1002'], ['1001'], ['1004']]);
    expect(data.steps.slice(0, 2).map((s: { timeout_ms: number }) => s.timeout_ms)).toEqual([5000, 15_000]);
    expect(data.trace.map((e: { detail: string }) => e.detail)).toContain('ring group 600 "Sales" (sequential, 40 s): 1002 (5 s), 1001 (15 s); fallback 1004');
  });

  it('simultaneous without fallback: one step of every member that can ring; a busy one is left out and traced', async () => {
    await group({ members: [{ extension_id: ext['1001']!.id }, { extension_id: ext['1002']!.id }, { extension_id: ext['1003']!.id }] });
    counts[ext['1002']!.id] = 1;
    const data = await simulate();
    expect(data).toMatchObject({ decision: 'ring', sip_status: 480, ring_timeout_ms: 30_000 });
    expect(stepNumbers(data)).toEqual([['1001', '1003']]);
    expect(data.trace.map((e: { detail: string }) => e.detail)).toContain('member 1002 would be skipped now: at its call limit (1/1)');
  });

  it('every member busy: the caller would hear 486', async () => {
    await group({ strategy: 'round_robin', members: [{ extension_id: ext['1001']!.id }, { extension_id: ext['1002']!.id }] });
    counts[ext['1001']!.id] = 1;
    counts[ext['1002']!.id] = 1;
    expect(await simulate()).toMatchObject({ decision: 'ring', sip_status: 486, steps: [] });
  });

  it('round robin: simulating never moves the memory', async () => {
    const g = await group({ strategy: 'round_robin', members: [{ extension_id: ext['1001']!.id }, { extension_id: ext['1002']!.id }] });
    expect(stepNumbers(await simulate())).toEqual([['1001'], ['1002']]);
    expect(stepNumbers(await simulate())).toEqual([['1001'], ['1002']]);
    expect((await body(await t.call('GET', `/api/v1/ring-groups/${g.id}`))).data.last_answered_extension_id).toBeNull();
  });

  it('an extension number stays an extension: the dialplan looks extensions up first, and the API keeps the two apart', async () => {
    expect((await t.call('POST', '/api/v1/ring-groups', { body: { number: '1001', name: 'Clash' } })).status).toBe(409);
    expect(await simulate('1001')).toMatchObject({ decision: 'ring', callee: { number: '1001' } });
  });
});
