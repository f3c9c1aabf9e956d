import type { TimerHandle } from '../../shared/clock.js';
import type { ResolvedTarget } from '../core/resolver.js';
import type { ProxyClientTxn } from './types.js';

/**
 * One target of a proxy operation (RFC 3261 §16.6: a "branch", with its own client transaction).
 *
 * - waiting: not launched yet (serial forking, or a redirect target queued behind others);
 * - starting: the target is being resolved;
 * - calling: the request is out, no provisional yet;
 * - proceeding: a provisional arrived;
 * - completed: a final response arrived, the transaction failed, or the branch could not start.
 */
export type BranchState = 'waiting' | 'starting' | 'calling' | 'proceeding' | 'completed';

export interface Branch {
  target: string;
  state: BranchState;
  /**
   * The proxy gave up on this branch (provisional timeout, Timer C, another branch answered 2xx,
   * a challenge stopped the search, upstream CANCEL): it no longer counts for the search and its
   * 1xx are not forwarded, but its final responses are still reported to the app.
   */
  abandoned: boolean;
  txn?: ProxyClientTxn;
  dest?: ResolvedTarget;
  provisionalTimer?: TimerHandle;
  timerC?: TimerHandle;
}

export function newBranch(target: string): Branch {
  return { target, state: 'waiting', abandoned: false };
}

/** Out on the network and still wanted by the search. */
export function isActive(b: Branch): boolean {
  return !b.abandoned && (b.state === 'starting' || b.state === 'calling' || b.state === 'proceeding');
}

/**
 * Still expecting a final response that the app should hear about before `done`: running
 * branches, and abandoned ones that were CANCELled after a provisional (their 487 follows).
 */
export function isOutstanding(b: Branch): boolean {
  return b.state === 'starting' || b.state === 'calling' || b.state === 'proceeding';
}
