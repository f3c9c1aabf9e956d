/**
 * One call's {@link RingPlan} through a ring group. Every strategy is a list of batches rung one
 * after the other: simultaneous is one batch of every member for the group's ring time; sequential
 * and round robin are batches of one member each for that member's ring time (round robin only
 * starts elsewhere, see member-order.ts). A member is checked when its batch comes up, not when
 * the call starts: a member who hung up meanwhile rings, one who became busy is skipped.
 */
import type { Logger } from '../../obs/logger.js';
import type { RingEnd, RingOutcome, RingPlan, RingStep, RouteTraceEntry } from '../../sip/calls/ports.js';
import type { RingStrategy } from '../../store/index.js';
import type { ExtensionActivity } from '../dialplan/ring-group-port.js';
import type { OrderedMember } from './member-order.js';

/** A member with what the skip rules need, loaded when the call started. */
export interface PlanMember extends OrderedMember {
  number: string;
  status: 'active' | 'disabled';
  dnd: boolean;
  maxConcurrentCalls: number;
}

export interface RingGroupPlanInput {
  group: { number: string; strategy: RingStrategy; ringTimeoutMs: number };
  /** In the order they are to be tried. */
  members: PlanMember[];
  activity: ExtensionActivity;
  /**
   * The target's trace; skips found while the plan runs are appended to it and logged. (The router
   * copies the trace when it resolves the group, so routing/simulate shows the resolver's "would be
   * skipped now" entries, and the log the ones decided mid-call.)
   */
  trace: RouteTraceEntry[];
  log: Logger;
  /** A member answered (for the round-robin memory). */
  onAnswered(extensionId: string): void;
}

/** Why a member cannot ring now, and whether that counts as busy (486) or unavailable (480). */
export function skipReason(m: PlanMember, activity: ExtensionActivity): { reason: string; busy: boolean } | undefined {
  if (m.status === 'disabled') return { reason: 'disabled', busy: false };
  if (m.dnd) return { reason: 'do not disturb', busy: true };
  const active = activity.activeCallCount(m.extensionId);
  if (active >= m.maxConcurrentCalls) return { reason: `at its call limit (${active}/${m.maxConcurrentCalls})`, busy: true };
  return undefined;
}

export function createRingGroupPlan(input: RingGroupPlanInput): RingPlan {
  const { group, members, activity, trace, log } = input;
  const label = `ring group ${group.number}`;
  const batches: PlanMember[][] = group.strategy === 'simultaneous' ? [members] : members.map((m) => [m]);
  let next = 0;
  /** Members found busy (skipped as busy, or in a batch all of whose phones answered busy). */
  let busy = 0;
  let current: PlanMember[] = [];
  let ended: RingEnd | undefined;

  const end = (): RingEnd => {
    // 486 only when every member was busy: anyone unavailable, silent or disabled makes it "no answer".
    ended ??= {
      kind: 'end',
      sipStatus: members.length > 0 && busy === members.length ? 486 : 480,
      reason: members.length === 0 ? `${label} has no members` : `${label}: every member was tried`,
    };
    return ended;
  };

  const advance = (): RingStep | RingEnd => {
    while (next < batches.length) {
      const batch = batches[next++] ?? [];
      current = batch.filter((m) => {
        const skip = skipReason(m, activity);
        if (!skip) return true;
        if (skip.busy) busy++;
        trace.push({ step: 'ring-group-skip', detail: `${label} member ${m.number} skipped: ${skip.reason}` });
        log.info({ group: group.number, member: m.number, reason: skip.reason }, 'ring group member skipped');
        return false;
      });
      if (current.length === 0) continue;
      const timeoutMs = group.strategy === 'simultaneous' ? group.ringTimeoutMs : (current[0]?.timeoutMs ?? group.ringTimeoutMs);
      return {
        kind: 'step',
        extensionIds: current.map((m) => m.extensionId),
        timeoutMs,
        reason: `${label} (${group.strategy}) ${current.length === 1 ? 'member' : 'members'} ${current.map((m) => m.number).join(', ')}`,
      };
    }
    return end();
  };

  return {
    first: async () => (ended ? ended : advance()),
    next: async (outcome: RingOutcome) => {
      if (ended) return ended;
      if (outcome.sipStatus === 486 && !outcome.timedOut) busy += current.length;
      current = [];
      return advance();
    },
    answered: (extensionId: string) => {
      if (!members.some((m) => m.extensionId === extensionId)) return;
      input.onAnswered(extensionId);
    },
  };
}
