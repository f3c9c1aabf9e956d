import { RecentResults } from './recent.js';
import {
  COLON,
  isHostChar,
  isHostName,
  isIPv6Reference,
  isWs,
  LBRACKET,
  parseParams,
  parsePort,
  scanToken,
  skipWs,
  SLASH,
} from './grammar.js';
import type { Via } from './types.js';

/**
 * Parse a Via header value, which may hold several comma-separated via-parms (RFC 3261 §20.42):
 *
 *     via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 *     sent-protocol = protocol-name SLASH protocol-version SLASH transport
 *
 * SLASH, COLON and SEMI allow LWS around them (RFC 4475 §3.1.1.1 wsinv). Any transport token is
 * accepted (§3.1.1.10 transports). Parameter values may be IPv6 literals with or without brackets
 * (`received=[2001:db8::9:255]`, RFC 5118 §4.5). Empty elements (`,,` or `;;`, §3.1.2.1 badinv01)
 * and a valueless `branch` are errors. Returns undefined on any syntax error.
 */
export function parseVia(value: string): Via[] | undefined {
  // The result is shared between callers with the same input: treat it as read-only.
  return recentVias.get(value, parseViaUncached);
}

const recentVias = new RecentResults<Via[] | undefined>(4);

function parseViaUncached(value: string): Via[] | undefined {
  const out: Via[] = [];
  let i = 0;
  for (;;) {
    const r = parseViaParm(value, i);
    if (r === undefined) return undefined;
    out.push(r.via);
    if (r.end >= value.length) return out;
    i = r.end + 1; // skip the comma
  }
}

function parseViaParm(s: string, i: number): { via: Via; end: number } | undefined {
  i = skipWs(s, i);
  let e = scanToken(s, i);
  if (e === i || s.slice(i, e).toUpperCase() !== 'SIP') return undefined;
  i = expectSlash(s, e);
  if (i < 0) return undefined;
  e = scanToken(s, i);
  if (e === i) return undefined;
  i = expectSlash(s, e);
  if (i < 0) return undefined;
  e = scanToken(s, i);
  if (e === i || !isWs(s.charCodeAt(e))) return undefined;
  const transport = s.slice(i, e).toUpperCase();
  i = skipWs(s, e);

  let host: string;
  if (s.charCodeAt(i) === LBRACKET) {
    const close = s.indexOf(']', i);
    if (close < 0) return undefined;
    host = s.slice(i, close + 1);
    if (!isIPv6Reference(host)) return undefined;
    i = close + 1;
  } else {
    e = i;
    while (e < s.length && isHostChar(s.charCodeAt(e))) e++;
    host = s.slice(i, e);
    if (!isHostName(host)) return undefined;
    i = e;
  }
  const via: Via = { transport, host, params: new Map() };

  const afterHost = skipWs(s, i);
  if (s.charCodeAt(afterHost) === COLON) {
    const start = skipWs(s, afterHost + 1);
    e = start;
    while (e < s.length && s.charCodeAt(e) >= 0x30 && s.charCodeAt(e) <= 0x39) e++;
    const port = parsePort(s.slice(start, e));
    if (port === undefined) return undefined;
    via.port = port;
    i = e;
  }

  const end = parseParams(s, i, via.params, true);
  if (end === undefined) return undefined;
  const branch = via.params.get('branch');
  if (branch === null || branch === '') return undefined;
  if (branch !== undefined) via.branch = branch;
  return { via, end };
}

/** Skip `SWS "/" SWS` starting at `i`; -1 when there is no slash. */
function expectSlash(s: string, i: number): number {
  i = skipWs(s, i);
  if (s.charCodeAt(i) !== SLASH) return -1;
  return skipWs(s, i + 1);
}

/** Serialise one via-parm; `v.branch` wins over a `branch` entry in `v.params`. */
export function formatVia(v: Via): string {
  let out = `SIP/2.0/${v.transport} ${v.host}`;
  if (v.port !== undefined) out += `:${v.port}`;
  let branchWritten = false;
  for (const [k, val] of v.params) {
    let value = val;
    if (k === 'branch' && v.branch !== undefined) {
      value = v.branch;
      branchWritten = true;
    }
    out += value === null ? `;${k}` : `;${k}=${value}`;
  }
  if (!branchWritten && v.branch !== undefined) out += `;branch=${v.branch}`;
  return out;
}
