/**
 * What routing/simulate shows: a decision, and for a ring plan the steps a call would go through
 * if nobody answered any of them. Walking a plan only reads (forward targets are routed, nothing
 * is applied), and feature codes are described, never run.
 */
import type { CallPartyInfo, RouteDecision, RouteTraceEntry } from '../../sip/calls/ports.js';

export interface SimulatedStep {
  extensionIds: string[];
  timeoutMs: number | null;
  reason: string;
}

export interface Simulation {
  decision: RouteDecision['kind'];
  /** The status the caller would get: the reject's, or the ring plan's end if nobody answers. */
  sipStatus: number | null;
  reason: string | null;
  callee: CallPartyInfo;
  feature: string | null;
  ringTimeoutMs: number | null;
  steps: SimulatedStep[];
  trace: RouteTraceEntry[];
}

/** A plan can be long (a big sequential group plus fallbacks) but never endless: stop after this many steps. */
const MAX_STEPS = 50;

export async function simulateDecision(decision: RouteDecision): Promise<Simulation> {
  const base = { decision: decision.kind, callee: decision.callee, trace: decision.trace, steps: [] as SimulatedStep[], feature: null, ringTimeoutMs: null };
  if (decision.kind === 'reject') return { ...base, sipStatus: decision.sipStatus, reason: decision.reason };
  if (decision.kind === 'feature') return { ...base, feature: decision.code, sipStatus: 200, reason: 'the feature is applied, then the call is answered and hung up' };
  const steps: SimulatedStep[] = [];
  let next = await decision.plan.first();
  while (next.kind === 'step') {
    steps.push({ extensionIds: next.extensionIds, timeoutMs: next.timeoutMs, reason: next.reason });
    if (steps.length >= MAX_STEPS) {
      decision.trace.push({ step: 'simulate', detail: `stopped after ${MAX_STEPS} steps` });
      return { ...base, ringTimeoutMs: decision.ringTimeoutMs, steps, sipStatus: null, reason: `more than ${MAX_STEPS} steps` };
    }
    // Unanswered in time: the outcome that moves every strategy (forward on no answer, next member) along.
    next = await decision.plan.next({ sipStatus: 480, timedOut: true });
  }
  return { ...base, ringTimeoutMs: decision.ringTimeoutMs, steps, sipStatus: next.sipStatus, reason: next.reason };
}
