/**
 * The only door from the transaction layer to the structured-header helpers of `../message/`.
 *
 * Stand-ins with the same signatures as `parseVia` (via.ts), `parseCSeq` (cseq.ts), `getTag`
 * (name-addr.ts) and `buildResponse` (response.ts), which another engineer is writing in parallel.
 * When those land, this file becomes a list of re-exports; nothing else in the folder changes.
 */
import { getHeaderLines, splitCommaList } from '../message/headers.js';
import type { SipHeader, SipRequest, SipResponse, Via } from '../message/types.js';

const VIA_RE = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;]+)(?:\s*:\s*(\d+))?\s*(.*)$/s;

/** Parse a Via header value (possibly a comma list) into its entries (RFC 3261 §20.42). */
export function parseVia(value: string): Via[] | undefined {
  const out: Via[] = [];
  for (const part of splitCommaList(value)) {
    const m = VIA_RE.exec(part);
    if (!m) return undefined;
    const [, transport = '', host = '', port, rest = ''] = m;
    const params = new Map<string, string | null>();
    for (const p of rest.split(';')) {
      const t = p.trim();
      if (!t) continue;
      const eq = t.indexOf('=');
      if (eq < 0) params.set(t.toLowerCase(), null);
      else params.set(t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim());
    }
    const via: Via = { transport: transport.toUpperCase(), host, params };
    if (port !== undefined) via.port = Number(port);
    const branch = params.get('branch');
    if (branch) via.branch = branch;
    out.push(via);
  }
  return out.length > 0 ? out : undefined;
}

/** Parse a CSeq value `4711 INVITE` (RFC 3261 §20.16). */
export function parseCSeq(s: string): { seq: number; method: string } | undefined {
  const m = /^\s*(\d{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(s);
  if (!m?.[1] || !m[2]) return undefined;
  const seq = Number(m[1]);
  return seq < 2 ** 31 ? { seq, method: m[2] } : undefined;
}

/** The `tag` parameter of a From/To value, ignoring anything inside `<…>` or a quoted display name. */
export function getTag(nameAddr: string): string | undefined {
  let rest = nameAddr;
  const close = rest.lastIndexOf('>');
  if (close >= 0) rest = rest.slice(close + 1);
  for (const p of rest.split(';').slice(1)) {
    const eq = p.indexOf('=');
    if (eq >= 0 && p.slice(0, eq).trim().toLowerCase() === 'tag') return p.slice(eq + 1).trim();
  }
  return undefined;
}

const reasons: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  200: 'OK',
  400: 'Bad Request',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  486: 'Busy Here',
  487: 'Request Terminated',
  500: 'Server Internal Error',
  503: 'Service Unavailable',
  603: 'Decline',
};

/** Build a response to `req` per RFC 3261 §8.2.6 (Via, From, To (+tag), Call-ID, CSeq copied). */
export function buildResponse(
  req: SipRequest,
  status: number,
  reason?: string,
  opts: { toTag?: string; headers?: Array<[string, string]> } = {},
): SipResponse {
  const headers: SipHeader[] = [];
  for (const h of req.headers) {
    if (h.name === 'via' || h.name === 'from' || h.name === 'call-id' || h.name === 'cseq') headers.push({ ...h });
    else if (h.name === 'to') {
      const value = opts.toTag && getTag(h.value) === undefined ? `${h.value};tag=${opts.toTag}` : h.value;
      headers.push({ ...h, value });
    } else if (h.name === 'timestamp' && status === 100) headers.push({ ...h });
  }
  for (const [name, value] of opts.headers ?? []) headers.push({ name: name.toLowerCase(), rawName: name, value });
  return { type: 'response', status, reason: reason ?? reasons[status] ?? 'Unknown', headers, body: Buffer.alloc(0) };
}

/** First entry of the top Via header line (RFC 3261 §17.2.3 uses only the top Via). */
export function topVia(msg: SipRequest | SipResponse): Via | undefined {
  const first = getHeaderLines(msg, 'via')[0];
  return first === undefined ? undefined : parseVia(first)?.[0];
}
