/**
 * Refer-To (RFC 3515 §2.1) and Replaces (RFC 3891 §6.1) as the transfer code needs them: who to
 * transfer to (the user part of the Refer-To URI, a number the dialplan routes) and, for an
 * attended transfer (RFC 5589 §7), which existing dialog the target's call replaces. The Replaces
 * rides as an escaped URI header (`?Replaces=<callid>%3Bto-tag%3D…%3Bfrom-tag%3D…`). Anything
 * else is `undefined`, which the REFER handler answers with 400.
 */

export interface ReplacesTarget {
  callId: string;
  /** Tags as the sender of the Replaces sees its dialog: from-tag is its own, to-tag its peer's. */
  toTag: string;
  fromTag: string;
  /** RFC 3891 §3: replace only a dialog that is not yet confirmed. */
  earlyOnly: boolean;
}

export interface ReferTarget {
  /** The user part of the Refer-To URI: the number to transfer to. */
  user: string;
  /** The whole URI without its headers, for logs. */
  uri: string;
  replaces?: ReplacesTarget;
}

/** Parse a Replaces header value (`call-id;to-tag=a;from-tag=b[;early-only]`); undefined when a part is missing. */
export function parseReplaces(value: string): ReplacesTarget | undefined {
  const [callId, ...params] = value.split(';').map((p) => p.trim());
  if (!callId) return undefined;
  let toTag: string | undefined;
  let fromTag: string | undefined;
  let earlyOnly = false;
  for (const p of params) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? '' : p.slice(eq + 1);
    if (name === 'to-tag') toTag = val;
    else if (name === 'from-tag') fromTag = val;
    else if (name === 'early-only') earlyOnly = true;
  }
  if (!toTag || !fromTag) return undefined;
  return { callId, toTag, fromTag, earlyOnly };
}

/** Parse a Refer-To header value: a name-addr (`"x" <sip:…?Replaces=…>;params`) or a bare SIP URI (no headers then). */
export function parseReferTo(value: string): ReferTarget | undefined {
  const v = value.trim();
  const angle = /<([^>]*)>/.exec(v);
  const raw = angle ? angle[1]! : v.split(';')[0]!.trim();
  const m = /^sips?:([^@?;]+)@([^?;>]+)(?:;[^?]*)?(?:\?(.*))?$/i.exec(raw);
  if (!m) return undefined;
  let user: string;
  try {
    user = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  if (user === '' || /[\s<>"]/.test(user)) return undefined;
  const uri = raw.split('?')[0]!;
  const headers = m[3];
  if (!headers) return { user, uri };
  for (const h of headers.split('&')) {
    const eq = h.indexOf('=');
    if (eq < 0 || h.slice(0, eq).toLowerCase() !== 'replaces') continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(h.slice(eq + 1));
    } catch {
      return undefined;
    }
    const replaces = parseReplaces(decoded);
    return replaces ? { user, uri, replaces } : undefined;
  }
  return { user, uri };
}
