/**
 * Parallel forking of one INVITE to every live contact of the callee (RFC 3261 §16.6/§16.7, done
 * as a B2BUA): each contact gets its own UAC INVITE, sent along the binding's flow (Request-URI =
 * Contact, next hop = the source address, port and transport the REGISTER came from, as the
 * qualify does). The first 2xx wins; every other branch is CANCELled, and a 2xx that crossed the
 * CANCEL is hung up at once.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Binding } from '../registrar/location.js';
import { guardReinvites } from './reinvite-guard.js';
import { flowUri } from '../registrar/srf-ping.js';

type Dialog = Srf.Dialog;

/** `target`: the binding that answered, so the caller knows which extension did. */
export type ForkOutcome = { answered: true; dialog: Dialog; target: Binding } | { answered: false; sipStatus: number };

export interface Fork {
  readonly outcome: Promise<ForkOutcome>;
  /** CANCEL every branch still pending (caller CANCEL, ring timeout). */
  cancel(): void;
}

interface PendingRequest {
  cancel(): void;
}

/**
 * The best final response of failed branches (RFC 3261 §16.7 step 6, simplified): a 6xx wins, then
 * busy, then any other failure; 487 only when every branch was cancelled.
 */
export function bestFailure(statuses: readonly number[]): number {
  const global = statuses.find((s) => s >= 600);
  if (global !== undefined) return global;
  if (statuses.includes(486)) return 486;
  return statuses.find((s) => s !== 487 && s !== 408) ?? statuses.find((s) => s === 408) ?? 487;
}

export function forkInvite(
  srf: Srf,
  targets: readonly Binding[],
  opts: {
    sdp: string;
    from: string;
    onRinging: () => void;
    log: Logger;
    /**
     * Offerless INVITE (RFC 3725 flow I, click-to-call): `sdp` is empty, the phone's 200 carries its
     * offer, and the winner's "dialog" is srf's `{ sdp, ack(answer), destroy() }`, ACKed by the caller.
     */
    noAck?: boolean;
  },
): Fork {
  const pending = new Set<PendingRequest>();
  let settled = false;
  let cancelled = false;
  const failures: number[] = [];
  const cancelAll = (): void => {
    for (const r of pending) {
      try {
        r.cancel();
      } catch {
        // the branch already ended
      }
    }
    pending.clear();
  };
  const outcome = new Promise<ForkOutcome>((resolve) => {
    const branchFailed = (status: number): void => {
      failures.push(status);
      if (!settled && failures.length === targets.length) {
        settled = true;
        resolve({ answered: false, sipStatus: bestFailure(failures) });
      }
    };
    if (targets.length === 0) resolve({ answered: false, sipStatus: 480 });
    for (const target of targets) {
      let request: PendingRequest | undefined;
      srf
        .createUAC(
          target.contactUri,
          { localSdp: opts.sdp, proxy: flowUri(target), headers: { From: opts.from }, ...(opts.noAck ? { noAck: true } : {}) },
          // srf calls cbRequest as (err, req) at run time, unlike its type declarations.
          {
            cbRequest: ((_err: unknown, req: PendingRequest | undefined) => {
              if (!req) return;
              request = req;
              // A CANCEL decided before this INVITE went out still applies to it.
              if (settled || cancelled) req.cancel();
              else pending.add(req);
            }) as unknown as (req: Srf.SrfRequest) => void,
            cbProvisional: (res: Srf.SrfResponse) => {
              if (res.status === 180 || res.status === 183) opts.onRinging();
            },
          },
        )
        .then((answered) => {
          // With noAck (3pcc) srf hands back the un-ACKed answer, not yet a dialog: nothing to guard.
          const dialog = opts.noAck ? answered : guardReinvites(answered);
          if (request) pending.delete(request);
          if (settled || cancelled) {
            // Answered after another branch won or after the CANCEL: RFC 3261 §15, hang it up. As a
            // branch of a cancelled fork it counts as terminated, so the fork still settles.
            hangUp(dialog);
            branchFailed(487);
            return;
          }
          settled = true;
          cancelAll();
          resolve({ answered: true, dialog, target });
        })
        .catch((err: unknown) => {
          if (request) pending.delete(request);
          const status = (err as { status?: number }).status ?? 500;
          opts.log.debug({ contact: target.contactUri, status }, 'call: branch failed');
          branchFailed(status);
        });
    }
  });
  return {
    outcome,
    cancel() {
      cancelled = true;
      cancelAll();
    },
  };
}

/** BYE a dialog, ignoring a dialog already gone (srf's destroy rejects then). */
export function hangUp(dialog: Dialog): void {
  try {
    dialog.destroy(undefined, () => undefined);
  } catch {
    // already destroyed
  }
}
