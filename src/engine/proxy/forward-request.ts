import { rewriteLocalhost, supportsOption } from '../core/build.js';
import type { LocalAddresses } from '../core/local-address.js';
import { displayName, getHeader, getHeaderValues, setHeader } from '../message/headers.js';
import { parseNameAddr } from '../message/name-addr.js';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import { isSipUri, parseUri } from '../message/uri.js';
import { effectiveMaxForwards } from '../message/validate.js';
import type { ListeningTransport } from '../transport/types.js';
import { isOurUri, stripOurRoutes } from './route-set.js';

/**
 * Building the requests a stateful proxy forwards (RFC 3261 §16.6, drachtio-protocol §4.9).
 */

/**
 * Headers the app's `proxy` header block may not touch: the ones the server always generates
 * (drachtio-protocol §5) and the ones a proxy must forward unchanged because they identify the
 * transaction and dialog end to end (RFC 3261 §16.6 step 1: the copy keeps them).
 */
const notFromApp = new Set(['via', 'route', 'record-route', 'rseq', 'content-length', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'contact']);

/**
 * The copy every branch starts from (RFC 3261 §16.6 steps 1–3, 6): the received request with a
 * preloaded Route naming us removed, Max-Forwards decremented, and the app's extra headers applied
 * (drachtio-protocol §5: each header the app names replaces the request's lines of that name, so
 * `Subject` is overwritten and a new `X-` header is added; `@localhost` in P-Asserted-Identity is
 * rewritten). The caller has checked Max-Forwards > 0.
 */
export function prepareForward(
  req: SipRequest,
  appHeaders: readonly SipHeader[],
  local: LocalAddresses,
  listener: ListeningTransport | undefined,
): SipRequest {
  const copy: SipRequest = { ...req, headers: req.headers.map((h) => ({ ...h })) };
  stripOurRoutes(copy, local);
  setHeader(copy, 'max-forwards', String(effectiveMaxForwards(req) - 1));
  const replaced = new Set<string>();
  for (const h of appHeaders) {
    if (notFromApp.has(h.name)) continue;
    if (!replaced.has(h.name)) {
      copy.headers = copy.headers.filter((x) => x.name !== h.name);
      replaced.add(h.name);
    }
    const value = h.name === 'p-asserted-identity' && listener ? rewriteLocalhost(h.value, listener) : h.value;
    copy.headers.push({ name: h.name, rawName: h.rawName, value });
  }
  return copy;
}

/** Whether the Request-URI points at us, so the proxy replaces it with the target (drachtio-protocol §4.9). */
export function requestUriIsOurs(req: SipRequest, local: LocalAddresses): boolean {
  return isOurUri(req.uri, local);
}

export interface BranchRequestOptions {
  /** Replace the Request-URI with the target (it pointed at us); else keep it and only send to the target. */
  replaceUri: boolean;
  /**
   * Our Record-Route (or, for REGISTER, Path) entries, top first, e.g. `<sip:10.0.0.1:5060;lr>`;
   * empty when the app did not ask to stay in the dialog.
   */
  recordRoute: readonly string[];
}

/**
 * The request for one branch (RFC 3261 §16.6 steps 2 and 4): the Request-URI, and our
 * Record-Route on top of any others so that later in-dialog requests come through us. For
 * REGISTER the same entry goes into Path instead (RFC 3327 §5.2), and only when the UA said it
 * supports path; `Require: path` then tells the registrar it must honour it.
 */
export function branchRequest(base: SipRequest, target: string, opts: BranchRequestOptions): SipRequest {
  const req: SipRequest = { ...base, headers: base.headers.map((h) => ({ ...h })) };
  if (opts.replaceUri) req.uri = target;
  if (opts.recordRoute.length === 0) return req;
  if (req.method === 'REGISTER') {
    if (!supportsOption(req, 'path')) return req;
    insertOnTop(req, 'path', opts.recordRoute);
    const require = getHeader(req, 'require');
    if (!require) setHeader(req, 'require', 'path');
    else if (!require.split(',').some((t) => t.trim().toLowerCase() === 'path')) setHeader(req, 'require', `${require}, path`);
    return req;
  }
  insertOnTop(req, 'record-route', opts.recordRoute);
  return req;
}

/**
 * Put entries above every existing line of a list header (they must be topmost, RFC 3261 §16.6
 * step 4). With none yet, they go after the Via lines, so those stay together at the top.
 */
function insertOnTop(msg: SipRequest, name: string, entries: readonly string[]): void {
  const lines: SipHeader[] = entries.map((value) => ({ name, rawName: displayName(name), value }));
  let at = msg.headers.findIndex((h) => h.name === name);
  if (at < 0) {
    at = 0;
    msg.headers.forEach((h, i) => {
      if (h.name === 'via') at = i + 1;
    });
  }
  msg.headers.splice(at, 0, ...lines);
}

/**
 * The new targets a 3xx offers (RFC 3261 §16.7 step 4 left to the proxy's policy; drachtio
 * follows them in Contact order): sip/sips URIs not tried yet, at most `room` of them.
 */
export function redirectTargets(res: SipResponse, known: ReadonlySet<string>, room: number): string[] {
  const out: string[] = [];
  for (const value of getHeaderValues(res, 'contact')) {
    const uri = parseNameAddr(value)?.uri;
    if (out.length >= room) break;
    if (!uri || !isSipUri(parseUri(uri)) || known.has(uri) || out.includes(uri)) continue;
    out.push(uri);
  }
  return out;
}
