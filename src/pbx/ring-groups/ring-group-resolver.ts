/**
 * Ring groups for the dialplan (product.md §2 item 6, issue 4 §4): the {@link RingGroupResolver}
 * the router asks when a dialled number may be a group. It loads the group and its members' state
 * once per call and hands back a plan (ring-group-plan.ts) in the strategy's order
 * (member-order.ts); the router routes `fallbackNumber` when the plan ends unanswered.
 */
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { RouteTraceEntry } from '../../sip/calls/ports.js';
import { findRingGroupByNumber, getExtensionsByIds, recordRingGroupAnswer, type Db, type RingGroup } from '../../store/index.js';
import type { ExtensionActivity, RingGroupResolver, RingGroupTarget } from '../dialplan/ring-group-port.js';
import { memberOrder } from './member-order.js';
import { createRingGroupPlan, skipReason, type PlanMember } from './ring-group-plan.js';

export interface RingGroupResolverDeps {
  db: Db;
  /** Only for the log: how long after the call started a member answered. */
  clock: Clock;
  log: Logger;
  /** Live calls per extension (the call service), for the max_concurrent_calls skip. */
  calls: ExtensionActivity;
}

/** The resolver, plus a way to wait for round-robin writes in flight (tests, orderly shutdown). */
export interface RingGroupResolverService extends RingGroupResolver {
  settled(): Promise<void>;
}

export function createRingGroupResolver(deps: RingGroupResolverDeps): RingGroupResolverService {
  const log = deps.log;
  const pending = new Set<Promise<void>>();

  /**
   * Round-robin memory, written after the answer without holding the call up: `answered()` is
   * synchronous in the RingPlan contract. A failed write costs one call's rotation, so it is logged, not thrown.
   */
  const remember = (group: RingGroup, extensionId: string, startedAt: number): void => {
    log.info({ group: group.number, extensionId, afterMs: deps.clock.now() - startedAt }, 'ring group answered');
    if (group.strategy !== 'round_robin') return;
    const write = recordRingGroupAnswer(deps.db, group.id, extensionId)
      .catch((err: unknown) => log.warn({ err, group: group.number }, 'could not store the round-robin memory'))
      .finally(() => pending.delete(write));
    pending.add(write);
  };

  return {
    async resolve(tenantId: string, number: string, opts: { excludeExtensionIds?: ReadonlySet<string> } = {}): Promise<RingGroupTarget | undefined> {
      const group = await findRingGroupByNumber(deps.db, tenantId, number);
      if (!group) return undefined;
      const startedAt = deps.clock.now();
      const extensions = new Map((await getExtensionsByIds(deps.db, tenantId, group.members.map((m) => m.extensionId))).map((e) => [e.id, e]));
      const members: PlanMember[] = [];
      const notRung: string[] = [];
      for (const m of group.members) {
        const ext = extensions.get(m.extensionId);
        // Gone between the group read and this one (the cascade will drop the member): not rung.
        if (!ext) continue;
        if (opts.excludeExtensionIds?.has(ext.id)) {
          notRung.push(ext.number);
          continue;
        }
        members.push({
          extensionId: ext.id,
          number: ext.number,
          status: ext.status,
          dnd: ext.dnd,
          maxConcurrentCalls: ext.maxConcurrentCalls,
          timeoutMs: (m.timeoutSeconds ?? group.memberTimeoutSeconds) * 1000,
        });
      }
      const ordered = memberOrder(group.strategy, members, group.lastAnsweredExtensionId);
      const trace: RouteTraceEntry[] = [{ step: 'ring-group', detail: describe(group, ordered) }];
      for (const n of notRung) trace.push({ step: 'ring-group-member', detail: `member ${n} is not rung: already on this call (the caller)` });
      // What the skips would be right now, so routing/simulate shows them; the plan checks again per step.
      for (const m of ordered) {
        const skip = skipReason(m, deps.calls);
        if (skip) trace.push({ step: 'ring-group-member', detail: `member ${m.number} would be skipped now: ${skip.reason}` });
      }
      const ringTimeoutMs = group.ringTimeoutSeconds * 1000;
      const unreached = membersPastRingTime(group, ordered, ringTimeoutMs);
      if (unreached.length > 0) {
        trace.push({ step: 'ring-group-member', detail: `the group's ${group.ringTimeoutSeconds} s end the hunt before ${unreached.join(', ')} would ring (if nobody before answers)` });
      }
      const plan = createRingGroupPlan({
        group: { number: group.number, strategy: group.strategy, ringTimeoutMs },
        members: ordered,
        activity: deps.calls,
        trace,
        log: log.child({ ringGroup: group.number }),
        onAnswered: (extensionId) => remember(group, extensionId, startedAt),
      });
      return { callee: { number: group.number, name: group.name, extensionId: null }, plan, fallbackNumber: group.fallbackNumber, ringTimeoutMs, trace };
    },
    async settled() {
      await Promise.all([...pending]);
    },
  };
}

/**
 * Members whose turn (one after the other) would start after the group's ring time: worth a trace
 * line, since a long member timeout silently keeps the members after it from ever ringing.
 */
function membersPastRingTime(group: RingGroup, ordered: PlanMember[], ringTimeoutMs: number): string[] {
  if (group.strategy === 'simultaneous') return [];
  let startsAt = 0;
  const late: string[] = [];
  for (const m of ordered) {
    if (startsAt >= ringTimeoutMs) late.push(m.number);
    startsAt += m.timeoutMs;
  }
  return late;
}

/** "ring group 600 "Sales" (sequential, 30 s): 1001 (15 s), 1002 (10 s); fallback 1000". */
function describe(group: RingGroup, ordered: PlanMember[]): string {
  const list = ordered.map((m) => (group.strategy === 'simultaneous' ? m.number : `${m.number} (${m.timeoutMs / 1000} s)`)).join(', ') || 'no members';
  const fallback = group.fallbackNumber === null ? 'no fallback' : `fallback ${group.fallbackNumber}`;
  return `ring group ${group.number} "${group.name}" (${group.strategy}, ${group.ringTimeoutSeconds} s): ${list}; ${fallback}`;
}
