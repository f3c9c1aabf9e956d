/**
 * Checks for the `authenticate` command (docs/drachtio-protocol.md §2.1).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SwitchboardError } from '../../shared/errors.js';

/** srf's own limits on tags (lib/srf.js constructor); the server enforces the same. */
export const MAX_TAGS = 20;
export const MAX_TAG_LENGTH = 32;
const TAG_SYNTAX = /^[A-Za-z0-9\-_+@:]+$/;

/**
 * Compares a presented secret with the configured one in constant time. Both are hashed first so
 * that neither the content nor the length of the configured secret leaks through timing.
 */
export function secretMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Returns why a tag list is unacceptable, or undefined when it is fine. */
export function tagsProblem(tags: readonly string[]): string | undefined {
  if (tags.length > MAX_TAGS) return `too many tags (max ${MAX_TAGS})`;
  for (const tag of tags) {
    if (tag.length > MAX_TAG_LENGTH) return `tag longer than ${MAX_TAG_LENGTH} characters`;
    if (!TAG_SYNTAX.test(tag)) return 'tag contains invalid characters';
  }
  return undefined;
}

/** Throws unless `version` starts `vX.Y.Z` with X.Y.Z ≥ 0.8.2 (srf's ping gate, §2.1). */
export function checkVersion(version: string): void {
  const m = /^v(\d+)\.(\d+)\.(\d+)/.exec(version);
  const [maj, min, pat] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [-1, 0, 0];
  const ok = maj > 0 || (maj === 0 && (min > 8 || (min === 8 && pat >= 2)));
  if (!ok) throw new SwitchboardError('wire-bad-version', `server version must be vX.Y.Z >= v0.8.2, got "${version}"`);
}
