/**
 * Pure helpers for REGISTER processing (RFC 3261 §10.3): the AOR from a To URI and the expiry
 * each Contact asks for.
 */

/** User and host of a SIP/SIPS URI (RFC 3261 §19.1.1), host lowercased; undefined otherwise. */
export interface SipUriParts {
  user: string;
  host: string;
}

/**
 * Extract user and host from a SIP or SIPS URI, bare or inside `<…>` (To header value, RFC 3261
 * §10.3 step 5: the AOR is the To URI). Escaped user characters are decoded.
 */
export function parseSipUri(value: string | undefined): SipUriParts | undefined {
  if (value === undefined) return undefined;
  const inner = /<([^>]*)>/.exec(value)?.[1] ?? value;
  const m = /^\s*sips?:(?:([^@;?>]*)@)?(\[[^\]]+\]|[^:;?>\s]+)/i.exec(inner);
  if (!m?.[2]) return undefined;
  let user = m[1] ?? '';
  const colon = user.indexOf(':');
  if (colon >= 0) user = user.slice(0, colon);
  try {
    user = decodeURIComponent(user);
  } catch {
    return undefined;
  }
  return { user, host: m[2].toLowerCase() };
}

/** Limits of {@link contactExpiry}, in seconds. */
export interface ExpiryLimits {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
}

/** Outcome for one Contact: `remove` (0), `too-brief` (→ 423), or the granted expiry. */
export type ContactExpiry = { kind: 'remove' } | { kind: 'too-brief' } | { kind: 'bind'; seconds: number };

/**
 * RFC 3261 §10.3 step 6: the Contact's `expires` parameter wins, else the Expires header, else the
 * registrar's default. 0 removes the binding; a positive value below the minimum earns a 423; a
 * value above the maximum is shortened to it. Unparseable values count as absent (§20.19 says
 * malformed values are treated as the default).
 */
export function contactExpiry(
  param: string | undefined,
  header: string | undefined,
  limits: ExpiryLimits,
): ContactExpiry {
  const asked = parseDelta(param) ?? parseDelta(header) ?? limits.defaultExpires;
  if (asked === 0) return { kind: 'remove' };
  if (asked < limits.minExpires) return { kind: 'too-brief' };
  return { kind: 'bind', seconds: Math.min(asked, limits.maxExpires) };
}

/** A delta-seconds value (RFC 3261 §25.1), capped at 2^32-1 as §20.19 allows; else undefined. */
export function parseDelta(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = value.trim();
  if (!/^\d{1,10}$/.test(t)) return undefined;
  return Math.min(Number(t), 4294967295);
}
