import type { SipHeader, SipMessage } from './types.js';

/** RFC 3261 §7.3.3 compact forms plus the common extension ones (RFC 3515, 3892, 4028, 3265, 3841). */
const compactForms: Record<string, string> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Canonical lowercase long name for a header name as written (compact forms expanded). */
export function canonicalName(rawName: string): string {
  const lower = rawName.toLowerCase();
  return lower.length === 1 ? (compactForms[lower] ?? lower) : lower;
}

/** Conventional spelling for names we generate (`call-id` → `Call-ID`, `cseq` → `CSeq`). */
const wellKnownSpelling: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  rseq: 'RSeq',
  rack: 'RAck',
  'mime-version': 'MIME-Version',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
};

/** Title-Case a header name after each dash, keeping the well-known irregular spellings. */
export function displayName(name: string): string {
  const cached = spellingCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const spelled = wellKnownSpelling[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, ch: string) => dash + ch.toUpperCase());
  // Header names come from a small vocabulary; the bound only protects against odd apps.
  if (spellingCache.size < 1024) spellingCache.set(name, spelled);
  return spelled;
}

const spellingCache = new Map<string, string>();

/** First value of a header (by canonical or compact name), or undefined. */
export function getHeader(msg: SipMessage, name: string): string | undefined {
  const key = canonicalName(name);
  for (const h of msg.headers) if (h.name === key) return h.value;
  return undefined;
}

/** Every header line with that name, in order (comma-lists are not split; see {@link getHeaderValues}). */
export function getHeaderLines(msg: SipMessage, name: string): string[] {
  const key = canonicalName(name);
  const out: string[] = [];
  for (const h of msg.headers) if (h.name === key) out.push(h.value);
  return out;
}

/** All values of a list header (Via, Route, Contact, Supported…), split on top-level commas (RFC 3261 §7.3.1). */
export function getHeaderValues(msg: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const line of getHeaderLines(msg, name)) out.push(...splitCommaList(line));
  return out;
}

export function hasHeader(msg: SipMessage, name: string): boolean {
  const key = canonicalName(name);
  return msg.headers.some((h) => h.name === key);
}

/** Remove every line of a header. */
export function removeHeader(msg: SipMessage, name: string): void {
  const key = canonicalName(name);
  msg.headers = msg.headers.filter((h) => h.name !== key);
}

/** Replace every line of a header with one line (appended where the first one stood, else at the end). */
export function setHeader(msg: SipMessage, name: string, value: string, rawName = displayName(name)): void {
  const key = canonicalName(name);
  const idx = msg.headers.findIndex((h) => h.name === key);
  const header: SipHeader = { name: key, rawName, value };
  if (idx < 0) {
    msg.headers.push(header);
    return;
  }
  const kept: SipHeader[] = [];
  msg.headers.forEach((h, i) => {
    if (i === idx) kept.push(header);
    else if (h.name !== key) kept.push(h);
  });
  msg.headers = kept;
}

/** Append a header line at the end. */
export function addHeader(msg: SipMessage, name: string, value: string, rawName = displayName(name)): void {
  msg.headers.push({ name: canonicalName(name), rawName, value });
}

/** Insert a header line before every other header (top Via, top Record-Route). */
export function prependHeader(msg: SipMessage, name: string, value: string, rawName = displayName(name)): void {
  msg.headers.unshift({ name: canonicalName(name), rawName, value });
}

/**
 * Split a header value on commas that are not inside a quoted string or angle brackets
 * (RFC 3261 §7.3.1). Empty elements are dropped; elements are trimmed.
 */
export function splitCommaList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuotes = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (inQuotes) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inQuotes = false;
    } else if (ch === 0x22) inQuotes = true;
    else if (ch === 0x3c /* < */) inAngle = true;
    else if (ch === 0x3e /* > */) inAngle = false;
    else if (ch === 0x2c /* , */ && !inAngle) {
      const part = value.slice(start, i).trim();
      if (part) out.push(part);
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last) out.push(last);
  return out;
}
