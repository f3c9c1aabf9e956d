import { isToken, isWs, skipWs, trimWs } from './grammar.js';
import type { CSeq } from './types.js';

/** Largest CSeq sequence number: "MUST be expressible as a 32-bit unsigned integer" (RFC 3261 §8.1.1.5). */
export const MAX_CSEQ = 0xffffffff;

/**
 * Parse `CSeq = 1*DIGIT LWS Method` (RFC 3261 §20.16). Leading zeros are fine (RFC 4475 §3.1.1.1
 * wsinv: `0009`); a number above 2^32−1 is an error (§3.1.2.4 scalar02), as is a missing method.
 */
export function parseCSeq(s: string): CSeq | undefined {
  const v = trimWs(s);
  let i = 0;
  let seq = 0;
  while (i < v.length) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
    // stop as soon as it overflows: also keeps the loop from building huge imprecise doubles
    if (seq > MAX_CSEQ) return undefined;
    i++;
  }
  if (i === 0 || !isWs(v.charCodeAt(i))) return undefined;
  const method = v.slice(skipWs(v, i));
  return isToken(method) ? { seq, method } : undefined;
}

/** Serialise a CSeq value. */
export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
