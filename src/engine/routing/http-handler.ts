/**
 * drachtio's HTTP request handler (docs/drachtio-protocol.md §6): the query a new request is
 * described by, the call itself, and the JSON `action` it answers with.
 */
import { getHeader } from '../message/headers.js';
import { parseNameAddr } from '../message/name-addr.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipRequest, Uri } from '../message/types.js';
import { isSipUri, parseUri, unescapeUriPart } from '../message/uri.js';
import type { Flow } from '../transport/types.js';
import { parseProxyTimeout } from '../wire/meta.js';

/** What the handler told us to do with a request. */
export type HandlerAction =
  | { action: 'reject'; status: number; reason?: string }
  | { action: 'redirect'; contacts: string[] }
  | {
      action: 'proxy';
      destinations: string[];
      recordRoute: boolean;
      followRedirects: boolean;
      simultaneous: boolean;
      provisionalTimeoutMs?: number;
    }
  | { action: 'route'; uri: string }
  | { action: 'route'; tag: string };

/** Where and how the handler is called. */
export interface HttpHandlerTarget {
  url: string;
  method: 'GET' | 'POST';
  /** Abort the call after this long (ms); the request is then answered 500. */
  timeoutMs: number;
}

function userOf(uri: Uri | undefined): string {
  if (!uri) return '';
  if (isSipUri(uri)) return uri.user !== undefined ? unescapeUriPart(uri.user) : '';
  if ('number' in uri) return uri.number;
  return '';
}

function addrUser(value: string | undefined): string {
  const na = value ? parseNameAddr(value) : undefined;
  return userOf(na ? parseUri(na.uri) : undefined);
}

/**
 * The query parameters drachtio sends: method, domain, protocol, source_address, fromUser,
 * toUser, uriUser, contentType, uri, then the Request-URI's own parameters (§6).
 */
export function handlerQuery(req: SipRequest, flow: Flow): URLSearchParams {
  const ruri = parseUri(req.uri);
  const q = new URLSearchParams({
    method: req.method,
    domain: ruri && isSipUri(ruri) ? ruri.host : '',
    protocol: flow.protocol,
    source_address: flow.remote.address,
    fromUser: addrUser(getHeader(req, 'from')),
    toUser: addrUser(getHeader(req, 'to')),
    uriUser: userOf(ruri),
    contentType: getHeader(req, 'content-type') ?? '',
    uri: req.uri,
  });
  const params = ruri && 'params' in ruri ? ruri.params : new Map<string, string | null>();
  for (const [name, value] of params) if (!q.has(name)) q.set(name, value ?? '');
  return q;
}

/**
 * Calls the handler and returns its parsed action. Throws on a network error, a timeout, a non-2xx
 * status (redirects are not followed: a 3xx is an error too), bad JSON or an unknown action; the
 * caller answers 500 to all of these.
 */
export async function askHandler(target: HttpHandlerTarget, req: SipRequest, flow: Flow): Promise<HandlerAction> {
  const url = new URL(target.url);
  for (const [k, v] of handlerQuery(req, flow)) url.searchParams.append(k, v);
  const res = await fetch(url, {
    method: target.method,
    redirect: 'manual',
    signal: AbortSignal.timeout(target.timeoutMs),
    ...(target.method === 'POST' ? { body: serializeMessage(req).toString('utf8'), headers: { 'content-type': 'application/sip' } } : {}),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`request handler answered HTTP ${res.status}`);
  return parseAction(JSON.parse(text) as unknown);
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function strings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : [v];
  return list.filter((s): s is string => typeof s === 'string' && s.trim() !== '').map((s) => s.trim());
}

/** Validates the handler's JSON (`{action, data}`); throws on anything we cannot act on. */
export function parseAction(body: unknown): HandlerAction {
  if (!isObj(body) || typeof body.action !== 'string') throw new Error('request handler sent no action');
  const data = isObj(body.data) ? body.data : {};
  switch (body.action) {
    case 'reject': {
      const status = Number(data.status);
      if (!Number.isInteger(status) || status < 300 || status > 699) throw new Error(`bad reject status ${String(data.status)}`);
      return { action: 'reject', status, ...(typeof data.reason === 'string' ? { reason: data.reason } : {}) };
    }
    case 'redirect': {
      const contacts = strings(data.contact);
      if (!contacts.length) throw new Error('redirect without contact');
      return { action: 'redirect', contacts };
    }
    case 'proxy': {
      // srf prefixes sip: to bare destinations before proxying; do the same here.
      const destinations = strings(data.destination).map((d) => (/^(sips?|tel):/i.test(d) ? d : `sip:${d}`));
      if (!destinations.length) throw new Error('proxy without destination');
      const pt = typeof data.provisionalTimeout === 'number' ? data.provisionalTimeout : typeof data.provisionalTimeout === 'string' ? parseProxyTimeout(data.provisionalTimeout) : undefined;
      // finalTimeout is accepted but, as in drachtio-server, not acted on (Timer C applies).
      return {
        action: 'proxy',
        destinations,
        recordRoute: data.recordRoute === true,
        followRedirects: data.followRedirects === true,
        simultaneous: data.simultaneous === true,
        ...(pt !== undefined && pt > 0 ? { provisionalTimeoutMs: pt } : {}),
      };
    }
    case 'route':
      if (typeof data.uri === 'string' && data.uri.trim()) return { action: 'route', uri: data.uri.trim() };
      if (typeof data.tag === 'string' && data.tag.trim()) return { action: 'route', tag: data.tag.trim() };
      throw new Error('route without uri or tag');
    default:
      throw new Error(`unknown action ${body.action}`);
  }
}
