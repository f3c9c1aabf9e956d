/**
 * Executes a {@link RingPlan} on the wire: each step forks the offer to every live contact of the
 * step's extensions, for at most the step's timeout; an unanswered step is reported back to the
 * plan, which decides the next one (the forward target, the next ring-group member). The PBX owns
 * the strategy; this file only rings and reports.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { LocationService } from '../registrar/location.js';
import { forkInvite, type Fork } from './fork.js';
import type { RingOutcome, RingPlan } from './ports.js';

export type RingResult =
  | { answered: true; dialog: Srf.Dialog; extensionId: string }
  | { answered: false; sipStatus: number; reason: string };

export interface RingRun {
  readonly result: Promise<RingResult>;
  /** Stop ringing (caller CANCEL, ring timeout): the current step's branches are CANCELled, no further step starts. */
  cancel(): void;
}

export interface RingDeps {
  srf: Srf;
  location: LocationService;
  clock: Clock;
  log: Logger;
}

export interface RingOptions {
  /** The offer every branch gets (already anchored by the media relay). */
  sdp: string;
  /** The From header the called phones show. */
  from: string;
  /** Called at every 180/183 of any branch of any step. */
  onRinging: () => void;
}

export function runRingPlan(d: RingDeps, plan: RingPlan, opts: RingOptions): RingRun {
  let cancelled = false;
  let current: Fork | undefined;
  const stopped: RingResult = { answered: false, sipStatus: 487, reason: 'ringing stopped' };

  const ringStep = async (extensionIds: readonly string[], timeoutMs: number | null): Promise<RingResult | RingOutcome> => {
    const targets = extensionIds.flatMap((id) => d.location.live(id, d.clock.now()));
    if (targets.length === 0) return { sipStatus: 480, timedOut: false };
    const fork = forkInvite(d.srf, targets, { sdp: opts.sdp, from: opts.from, onRinging: opts.onRinging, log: d.log });
    current = fork;
    let timedOut = false;
    const timer = timeoutMs === null ? undefined : d.clock.setTimeout(() => {
      timedOut = true;
      fork.cancel();
    }, timeoutMs);
    const outcome = await fork.outcome;
    d.clock.clearTimeout(timer);
    current = undefined;
    if (outcome.answered) return { answered: true, dialog: outcome.dialog, extensionId: outcome.target.extensionId };
    return timedOut ? { sipStatus: 480, timedOut: true } : { sipStatus: outcome.sipStatus, timedOut: false };
  };

  const run = async (): Promise<RingResult> => {
    let step = await plan.first();
    while (step.kind === 'step') {
      if (cancelled) return stopped;
      d.log.debug({ extensionIds: step.extensionIds, timeoutMs: step.timeoutMs, reason: step.reason }, 'call: ringing step');
      const result = await ringStep(step.extensionIds, step.timeoutMs);
      if ('answered' in result) {
        if (result.answered) plan.answered(result.extensionId);
        return result;
      }
      if (cancelled) return stopped;
      step = await plan.next(result);
    }
    return { answered: false, sipStatus: step.sipStatus, reason: step.reason };
  };

  return {
    result: run(),
    cancel() {
      cancelled = true;
      current?.cancel();
    },
  };
}
