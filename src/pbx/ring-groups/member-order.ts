/**
 * The order members are tried in, per strategy, as a pure function so each rule is tested on its
 * own. Members arrive in priority order (the store sorts by priority, then the order given).
 */
import type { RingStrategy } from '../../store/index.js';

export interface OrderedMember {
  extensionId: string;
  /** This member's ring time in a sequential or round-robin step. */
  timeoutMs: number;
}

/**
 * Sequential and simultaneous: priority order as stored. Round robin: the same circle, starting
 * after the member that answered last (`lastAnswered`); from the top when there is no memory or
 * that member has left the group.
 */
export function memberOrder<M extends { extensionId: string }>(strategy: RingStrategy, members: readonly M[], lastAnswered: string | null): M[] {
  if (strategy !== 'round_robin' || lastAnswered === null) return [...members];
  const last = members.findIndex((m) => m.extensionId === lastAnswered);
  if (last < 0) return [...members];
  const start = (last + 1) % members.length;
  return [...members.slice(start), ...members.slice(0, start)];
}
