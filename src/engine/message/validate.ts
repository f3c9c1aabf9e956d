import { parseCSeq } from './cseq.js';
import { isCallId, isToken, scanQuoted, schemeLength } from './grammar.js';
import { splitCommaList } from './headers.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import type { SipHeader, SipRequest } from './types.js';
import { isSipUri, parseUri } from './uri.js';
import { parseVia } from './via.js';

/** What this element supports; drives 501, 416 and 420 verdicts. */
export interface ValidationPolicy {
  /** Methods this element implements; anything else is answered 501 (RFC 3261 §8.2.1). */
  knownMethods: ReadonlySet<string>;
  /** Option tags understood in Require (RFC 3261 §8.2.2.3); compared case-insensitively. */
  supportedOptionTags: ReadonlySet<string>;
  /** Request-URI schemes served (RFC 3261 §8.2.2.1), lowercase. */
  supportedUriSchemes: ReadonlySet<string>;
}

/** A response to send statelessly instead of processing the request. */
export interface StatelessReject {
  status: number;
  reason: string;
  headers?: Array<[string, string]>;
}

/** What the engine implements: the methods and option tags drachtio-srf apps rely on, sip/sips/tel URIs. */
export const defaultValidationPolicy: ValidationPolicy = Object.freeze({
  knownMethods: new Set([
    'INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'INFO', 'UPDATE',
    'PRACK', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH',
  ]),
  supportedOptionTags: new Set(['100rel', 'timer', 'replaces', 'path', 'norefersub', 'tdialog', 'outbound', 'gruu']),
  supportedUriSchemes: new Set(['sip', 'sips', 'tel']),
});

/** Headers RFC 3261 §20 defines with a single value; a second line or value is a 400 (RFC 4475 §3.3.8 multi01). */
const singleValued = new Map([
  'to', 'from', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type', 'content-disposition',
  'expires', 'min-expires', 'mime-version', 'priority', 'reply-to', 'retry-after', 'rseq', 'rack',
  'session-expires', 'min-se', 'refer-to', 'event',
].map((name, bit) => [name, 1 << bit]));
/**
 * Of those, the ones whose grammar has no bare comma, so a top-level comma means a second value.
 * Free-text ones (Subject, User-Agent, Server, Date…) are neither split nor counted: they carry no
 * protocol meaning here and RFC 4475 §3.1.2.12 baddate asks to ignore what does not matter.
 */
const commaChecked = new Set(['to', 'from', 'call-id', 'cseq', 'max-forwards', 'content-type', 'expires', 'min-expires']);

/**
 * Decide whether a parsed request must be answered statelessly before any transaction or
 * application sees it. Returns undefined when the request may proceed. The caller never answers
 * an ACK (RFC 3261 §17.1.1.3): for ACK, a verdict means "drop".
 *
 * Order matters and follows RFC 4475: syntax of the headers every element needs (400), then the
 * method (501 before the CSeq/method comparison: §3.1.2.18 mismatch02), then the Request-URI
 * (400 for escaped headers, §3.1.2.11; 416 for schemes not served, §3.3.2), REGISTER rules
 * (RFC 3261 §10.3), and finally Require (420, §8.2.2.3).
 *
 * RFC 2543 requests (§3.4.1 inv2543) are accepted: a Via without a branch is fine and the
 * transaction layer falls back to RFC 2543 matching; a branch that is only the magic cookie
 * claims RFC 3261 matching without an id and is rejected (§3.2.1 badbranch). Max-Forwards may be
 * absent (treat as 70); above 255 it is treated as absent (§3.1.2.4); non-numeric is a 400.
 */
export function validateRequest(req: SipRequest, policy: ValidationPolicy): StatelessReject | undefined {
  const missing = missingMandatory(req.headers);
  if (missing !== undefined) return bad(`Missing ${missing} header`);
  const dup = repeatedSingleValue(req.headers);
  if (dup !== undefined) return bad(`Multiple values in ${dup}`);

  const maxForwards = first(req, 'max-forwards');
  if (maxForwards !== '' && !/^[0-9]{1,10}$/.test(maxForwards)) return bad('Malformed Max-Forwards');

  if (parseNameAddr(first(req, 'from')) === undefined) return bad('Malformed From header');
  const to = parseNameAddr(first(req, 'to'));
  if (to === undefined) return bad('Malformed To header');
  let starContact = false;
  let contactCount = 0;
  for (const h of req.headers) {
    if (h.name !== 'contact' && h.name !== 'route' && h.name !== 'record-route') continue;
    if (h.name === 'contact' && h.value === '*') {
      if (req.method !== 'REGISTER') return bad('Contact: * outside REGISTER');
      starContact = true;
      contactCount++;
      continue;
    }
    const list = parseNameAddrList(h.value);
    if (list === undefined) return bad(`Malformed ${displayOf(h.name)} header`);
    if (h.name === 'contact') contactCount += list.length;
  }

  let top = true;
  for (const h of req.headers) {
    if (h.name !== 'via') continue;
    const vias = parseVia(h.value);
    if (vias === undefined) return bad('Malformed Via header');
    if (top && vias[0]?.branch === 'z9hG4bK') return bad('Missing transaction identifier in Via branch');
    top = false;
  }

  if (!isCallId(first(req, 'call-id'))) return bad('Malformed Call-ID header');
  const cseq = parseCSeq(first(req, 'cseq'));
  if (cseq === undefined) return bad('Malformed CSeq header');
  if (!policy.knownMethods.has(req.method)) {
    return { status: 501, reason: 'Not Implemented', headers: [['Allow', [...policy.knownMethods].join(', ')]] };
  }
  if (cseq.method !== req.method) return bad('CSeq method does not match the request method');

  const schemeLen = schemeLength(req.uri);
  const scheme = req.uri.slice(0, schemeLen).toLowerCase();
  if (!policy.supportedUriSchemes.has(scheme)) return { status: 416, reason: 'Unsupported URI Scheme' };
  const ruri = parseUri(req.uri);
  if (ruri === undefined) return bad('Malformed Request-URI');
  if (isSipUri(ruri) && ruri.headers.size > 0) return bad('Escaped headers in Request-URI');

  if (req.method === 'REGISTER') {
    // the To URI already parsed inside parseNameAddr: its scheme is all that is left to check
    const toScheme = to.uri.slice(0, schemeLength(to.uri)).toLowerCase();
    if (toScheme !== 'sip' && toScheme !== 'sips') return bad('To of a REGISTER must be a SIP or SIPS URI');
    if (starContact && (contactCount > 1 || !/^0+$/.test(first(req, 'expires')))) {
      return bad('Contact: * requires Expires: 0 and no other Contact');
    }
  }

  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const unsupported = unsupportedTags(req.headers, policy.supportedOptionTags);
    if (unsupported.length > 0) {
      return { status: 420, reason: 'Bad Extension', headers: [['Unsupported', unsupported.join(', ')]] };
    }
  }
  return undefined;
}

/** The first value of a header, or '' (single-valued headers were checked for repeats before). */
function first(req: SipRequest, name: string): string {
  for (const h of req.headers) if (h.name === name) return h.value;
  return '';
}

function bad(reason: string): StatelessReject {
  return { status: 400, reason };
}

const spelled: Record<string, string> = { 'call-id': 'Call-ID', cseq: 'CSeq', via: 'Via' };
function displayOf(name: string): string {
  return spelled[name] ?? name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

/** The first mandatory header (RFC 3261 §8.1.1) that is absent, as it is spelled, or undefined. */
function missingMandatory(headers: readonly SipHeader[]): string | undefined {
  let seen = 0;
  for (const h of headers) {
    const bit = mandatory.get(h.name);
    if (bit !== undefined) seen |= bit;
  }
  for (const [name, bit] of mandatory) if ((seen & bit) === 0) return displayOf(name);
  return undefined;
}

const mandatory = new Map(['to', 'from', 'call-id', 'cseq', 'via'].map((name, bit) => [name, 1 << bit]));

function repeatedSingleValue(headers: readonly SipHeader[]): string | undefined {
  let seen = 0;
  for (const h of headers) {
    const bit = singleValued.get(h.name);
    if (bit === undefined) continue;
    if ((seen & bit) !== 0) return displayOf(h.name);
    seen |= bit;
    if (commaChecked.has(h.name) && hasTopLevelComma(h.value)) return displayOf(h.name);
  }
  return undefined;
}

/** Whether a value holds a comma outside quotes and angle brackets, i.e. a second list element. */
function hasTopLevelComma(v: string): boolean {
  let inAngle = false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const end = scanQuoted(v, i);
      if (end === undefined) return false;
      i = end - 1;
    } else if (c === 0x3c /* < */) inAngle = true;
    else if (c === 0x3e /* > */) inAngle = false;
    else if (c === 0x2c /* , */ && !inAngle) return true;
  }
  return false;
}

/**
 * Require option tags not in `supported` (RFC 3261 §8.2.2.3). Proxy-Require is for proxies and a
 * UAS ignores it (§20.29); RFC 4475 §3.3.5 bext01 therefore gets its 420 from Require alone, and
 * Unsupported lists the Require tags.
 */
function unsupportedTags(headers: readonly SipHeader[], supported: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const h of headers) {
    if (h.name !== 'require') continue;
    for (const tag of splitCommaList(h.value)) {
      if (!isToken(tag) || (!supported.has(tag) && !supported.has(tag.toLowerCase()))) out.push(tag);
    }
  }
  return out;
}

/**
 * The Max-Forwards a UAS or proxy should act on: the header's value, or 70 when it is absent or
 * out of range (RFC 3261 §8.1.1.6 default; RFC 4475 §3.1.2.4 allows treating >255 as absent).
 * Call after {@link validateRequest}, which rejects non-numeric values.
 */
export function effectiveMaxForwards(req: SipRequest): number {
  const v = req.headers.find((h) => h.name === 'max-forwards')?.value;
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : 70;
}
