/**
 * The choice of the response a forking proxy sends upstream once every branch has a final
 * response (RFC 3261 §16.7 step 6, drachtio's `bestResponseOrder`).
 */

/** A final response collected from one branch, with the order it arrived in. */
export interface CollectedFinal<T> {
  status: number;
  /** Arrival order; ties within a rank go to the earliest. */
  seq: number;
  value: T;
}

/** Status codes RFC 3261 §16.7 step 6 prefers among 4xx: they ask the UAC to retry differently. */
const preferred4xx = new Set([401, 407, 415, 420, 484]);

/**
 * Rank of a final status; lower wins:
 * 6xx first (a definitive answer, §16.7 step 6), then 401/407/415/420/484, then other 4xx, then 5xx.
 * 3xx goes before the 4xx when redirects were not followed (the lowest class, as §16.7 step 6 asks),
 * and last when they were (the proxy already acted on them, as drachtio does).
 */
export function responseRank(status: number, redirectsFollowed: boolean): number {
  if (status >= 600) return 0;
  if (status >= 300 && status < 400) return redirectsFollowed ? 5 : 1;
  if (preferred4xx.has(status)) return 2;
  if (status >= 400 && status < 500) return 3;
  return 4;
}

/** The best of the collected finals, or undefined when there are none (the caller answers 408). */
export function chooseBest<T>(finals: readonly CollectedFinal<T>[], redirectsFollowed: boolean): CollectedFinal<T> | undefined {
  let best: CollectedFinal<T> | undefined;
  for (const f of finals) {
    if (f.status < 300) continue;
    if (!best) {
      best = f;
      continue;
    }
    const a = responseRank(f.status, redirectsFollowed);
    const b = responseRank(best.status, redirectsFollowed);
    if (a < b || (a === b && f.seq < best.seq)) best = f;
  }
  return best;
}
