import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { RingEnd, RingPlan, RingStep, RouteTraceEntry } from '../../sip/calls/ports.js';
import type { RingStrategy } from '../../store/index.js';
import { createRingGroupPlan, type PlanMember } from './ring-group-plan.js';

const member = (n: string, over: Partial<PlanMember> = {}): PlanMember => ({
  extensionId: `ext-${n}`, number: n, status: 'active', dnd: false, maxConcurrentCalls: 2, timeoutMs: 15_000, ...over,
});

/** A fake call service: live calls per extension, changeable mid-plan. */
const activity = (counts: Record<string, number> = {}) => ({ counts, activeCallCount: (id: string) => counts[id] ?? 0 });

function plan(strategy: RingStrategy, members: PlanMember[], counts: Record<string, number> = {}) {
  const trace: RouteTraceEntry[] = [];
  const onAnswered = vi.fn();
  const calls = activity(counts);
  const p = createRingGroupPlan({ group: { number: '600', strategy, ringTimeoutMs: 30_000 }, members, activity: calls, trace, log: pino({ level: 'silent' }), onAnswered });
  return { p, trace, onAnswered, calls };
}

const noAnswer = { sipStatus: 480, timedOut: true };
const busy = { sipStatus: 486, timedOut: false };
const unavailable = { sipStatus: 480, timedOut: false };
const step = (s: RingStep | RingEnd) => (s.kind === 'step' ? { ids: s.extensionIds, timeoutMs: s.timeoutMs } : { end: s.sipStatus });

/** Every step of a plan whose steps all end with `outcome`. */
async function walk(p: RingPlan, outcome = noAnswer) {
  const seen = [step(await p.first())];
  for (let i = 0; i < 20 && !('end' in seen[seen.length - 1]!); i++) seen.push(step(await p.next(outcome)));
  return seen;
}

describe('ring group plan: simultaneous', () => {
  it('rings every member at once for the group time, then ends 480', async () => {
    const { p } = plan('simultaneous', [member('1001'), member('1002', { timeoutMs: 5000 })]);
    expect(await walk(p)).toEqual([{ ids: ['ext-1001', 'ext-1002'], timeoutMs: 30_000 }, { end: 480 }]);
  });

  it('ends 486 when every phone answered busy', async () => {
    const { p } = plan('simultaneous', [member('1001'), member('1002')]);
    expect(await walk(p, busy)).toEqual([{ ids: ['ext-1001', 'ext-1002'], timeoutMs: 30_000 }, { end: 486 }]);
  });

  it('leaves out disabled, DND and members at their call limit, and says so in the trace', async () => {
    const { p, trace } = plan('simultaneous', [member('1001', { status: 'disabled' }), member('1002', { dnd: true }), member('1003'), member('1004', { maxConcurrentCalls: 1 })], { 'ext-1004': 1 });
    expect(step(await p.first())).toEqual({ ids: ['ext-1003'], timeoutMs: 30_000 });
    expect(trace.map((e) => e.detail)).toEqual([
      'ring group 600 member 1001 skipped: disabled',
      'ring group 600 member 1002 skipped: do not disturb',
      'ring group 600 member 1004 skipped: at its call limit (1/1)',
    ]);
  });

  it('ends at once: 486 when all are busy, 480 with no members or when one is disabled', async () => {
    expect(await walk(plan('simultaneous', [member('1001', { dnd: true }), member('1002')], { 'ext-1002': 2 }).p)).toEqual([{ end: 486 }]);
    expect(await walk(plan('simultaneous', []).p)).toEqual([{ end: 480 }]);
    expect(await walk(plan('simultaneous', [member('1001', { dnd: true }), member('1002', { status: 'disabled' })]).p)).toEqual([{ end: 480 }]);
  });
});

describe('ring group plan: sequential and round robin', () => {
  it.each(['sequential', 'round_robin'] as const)('%s rings one member at a time in the given order, each for its own time', async (strategy) => {
    const { p } = plan(strategy, [member('1001', { timeoutMs: 2000 }), member('1002'), member('1003', { timeoutMs: 7000 })]);
    expect(await walk(p)).toEqual([
      { ids: ['ext-1001'], timeoutMs: 2000 },
      { ids: ['ext-1002'], timeoutMs: 15_000 },
      { ids: ['ext-1003'], timeoutMs: 7000 },
      { end: 480 },
    ]);
  });

  it('checks each member when its turn comes: one who became busy meanwhile is skipped, one freed rings', async () => {
    const { p, calls, trace } = plan('sequential', [member('1001'), member('1002', { maxConcurrentCalls: 1 }), member('1003', { maxConcurrentCalls: 1 })], { 'ext-1003': 1 });
    expect(step(await p.first())).toEqual({ ids: ['ext-1001'], timeoutMs: 15_000 });
    calls.counts['ext-1002'] = 1;
    calls.counts['ext-1003'] = 0;
    expect(step(await p.next(noAnswer))).toEqual({ ids: ['ext-1003'], timeoutMs: 15_000 });
    expect(trace.map((e) => e.detail)).toEqual(['ring group 600 member 1002 skipped: at its call limit (1/1)']);
  });

  it('ends 486 only when every member was busy (answered busy or skipped busy), else 480', async () => {
    const allBusy = plan('sequential', [member('1001'), member('1002', { dnd: true }), member('1003')]);
    expect(await walk(allBusy.p, busy)).toEqual([{ ids: ['ext-1001'], timeoutMs: 15_000 }, { ids: ['ext-1003'], timeoutMs: 15_000 }, { end: 486 }]);
    const mixed = plan('sequential', [member('1001'), member('1002')]);
    await mixed.p.first();
    await mixed.p.next(busy);
    expect(step(await mixed.p.next(unavailable))).toEqual({ end: 480 });
    const timedOutBusy = plan('sequential', [member('1001')]);
    await timedOutBusy.p.first();
    // A step the timer ended is no answer, whatever status it carries.
    expect(step(await timedOutBusy.p.next({ sipStatus: 486, timedOut: true }))).toEqual({ end: 480 });
  });

  it('keeps answering the end once ended', async () => {
    const { p } = plan('sequential', [member('1001')]);
    await p.first();
    expect(step(await p.next(busy))).toEqual({ end: 486 });
    expect(step(await p.next(noAnswer))).toEqual({ end: 486 });
  });

  it('reports an answer by a member (for the round-robin memory), ignores strangers', () => {
    const { p, onAnswered } = plan('round_robin', [member('1001'), member('1002')]);
    p.answered('ext-1002');
    p.answered('ext-9999');
    expect(onAnswered.mock.calls).toEqual([['ext-1002']]);
  });
});
