/**
 * Small {@link RingPlan} building blocks the router composes: one step, and a plan followed by
 * another when it ends unanswered (an extension then its forward target, a ring group then its
 * fallback). Composition keeps each rule (forward on busy, fallback) in one place instead of a
 * state machine per combination.
 */
import type { RingEnd, RingOutcome, RingPlan, RingStep } from '../../sip/calls/ports.js';

/** A plan of one step; its end carries that step's outcome (486 stays busy, 480 no answer). */
export function singleStepPlan(step: Omit<RingStep, 'kind'>): RingPlan {
  return {
    first: async () => ({ kind: 'step', ...step }),
    next: async (outcome) => ({ kind: 'end', sipStatus: outcome.sipStatus, reason: `${step.reason}: ended with ${outcome.sipStatus}${outcome.timedOut ? ' (no answer in time)' : ''}` }),
    answered: () => {},
  };
}

/**
 * `head`, then — once it ends unanswered — the plan `onEnd` returns for that end and the last step's
 * outcome (undefined: nothing else; the caller gets head's end). Asked at most once.
 */
export function chainPlan(head: RingPlan, onEnd: (end: RingEnd, last: RingOutcome | undefined) => Promise<RingPlan | undefined>): RingPlan {
  let current = head;
  let chained = false;
  let last: RingOutcome | undefined;
  const settle = async (r: RingStep | RingEnd): Promise<RingStep | RingEnd> => {
    if (r.kind === 'step' || chained) return r;
    chained = true;
    const tail = await onEnd(r, last);
    if (!tail) return r;
    current = tail;
    return tail.first();
  };
  return {
    first: async () => settle(await current.first()),
    next: async (outcome) => {
      last = outcome;
      return settle(await current.next(outcome));
    },
    answered: (extensionId) => current.answered(extensionId),
  };
}

/** A plan that rings nothing: a forward target that refuses (busy, DND) ends the call with its own status. */
export function endPlan(sipStatus: number, reason: string): RingPlan {
  const end: RingEnd = { kind: 'end', sipStatus, reason };
  return { first: async () => end, next: async () => end, answered: () => {} };
}
