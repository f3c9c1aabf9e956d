import { canonicalName, displayName } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import type { SipHeader, SipRequest, SipResponse } from './types.js';

/** Default reason phrases (RFC 3261 §21 and the extensions a PBX meets: 3262, 3265, 3329, 3903, 4028, 4412, 5079, 5360, 6442, 8197). */
const phrases: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  199: 'Early Dialog Terminated',
  200: 'OK',
  202: 'Accepted',
  204: 'No Notification',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  412: 'Conditional Request Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  417: 'Unknown Resource-Priority',
  420: 'Bad Extension',
  421: 'Extension Required',
  422: 'Session Interval Too Small',
  423: 'Interval Too Brief',
  428: 'Use Identity Header',
  429: 'Provide Referrer Identity',
  433: 'Anonymity Disallowed',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  489: 'Bad Event',
  491: 'Request Pending',
  493: 'Undecipherable',
  494: 'Security Agreement Required',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  580: 'Precondition Failure',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
  607: 'Unwanted',
  608: 'Rejected',
};

/** The usual reason phrase for a status code; falls back to the class's generic phrase. */
export function reasonPhrase(status: number): string {
  const known = phrases[status];
  if (known !== undefined) return known;
  if (status < 200) return 'Provisional';
  if (status < 300) return 'Success';
  if (status < 400) return 'Redirection';
  if (status < 500) return 'Client Error';
  if (status < 600) return 'Server Error';
  return 'Global Failure';
}

/**
 * Build a response to a request as a UAS or a stateless element would (RFC 3261 §8.2.6.2):
 * every Via line in order, From, To, Call-ID and CSeq copied; a To tag added when `toTag` is
 * given and To has none — never on a 100 (§8.2.6.2, a 100 Trying does not create a dialog);
 * Timestamp copied into a 100 (§8.2.6.1). `opts.headers` are appended (e.g. `Unsupported` for a
 * 420, `Retry-After` for a 503). Works on the `partial` of a failed parse too, copying whatever
 * was recovered. The body is empty; the serializer writes Content-Length.
 */
export function buildResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts?: { toTag?: string; headers?: Array<[string, string]> },
): SipResponse {
  const headers: SipHeader[] = [];
  for (const h of req.headers) if (h.name === 'via') headers.push({ ...h });
  // single-valued: the first line only, even if a broken request repeated it (RFC 4475 §3.3.8 multi01)
  copyFirst(req, headers, 'from');
  const to = req.headers.find((x) => x.name === 'to');
  if (to !== undefined) {
    let value = to.value;
    if (opts?.toTag !== undefined && status > 100) {
      // a To that does not parse (a partial from a failed parse) is echoed untouched
      const parsed = parseNameAddr(value);
      if (parsed !== undefined && !parsed.params.has('tag')) value = `${value};tag=${opts.toTag}`;
    }
    headers.push({ ...to, value });
  }
  copyFirst(req, headers, 'call-id');
  copyFirst(req, headers, 'cseq');
  if (status === 100) copyFirst(req, headers, 'timestamp');
  for (const [name, value] of opts?.headers ?? []) {
    headers.push({ name: canonicalName(name), rawName: displayName(name), value });
  }
  return { type: 'response', status, reason: reason ?? reasonPhrase(status), headers, body: Buffer.alloc(0) };
}

function copyFirst(req: SipRequest, into: SipHeader[], name: string): void {
  const h = req.headers.find((x) => x.name === name);
  if (h !== undefined) into.push({ ...h });
}
