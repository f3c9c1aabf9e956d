import { randomToken } from '../../shared/ids.js';
import { addHeader, prependHeader } from '../message/headers.js';
import { parseNameAddr } from '../message/name-addr.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipHeader, SipRequest } from '../message/types.js';
import type { Destination } from '../transport/types.js';
import { appendAppHeaders, ensureContentType } from './build.js';
import type { CoreContext } from './context.js';
import { familyOf, uriHost } from './local-address.js';
import { resolveUri } from './resolver.js';
import type { DialogRuntime } from './state.js';

/** Headers the dialog supplies for every request inside it; app copies are ignored (drachtio §4.8). */
const dialogOwned: ReadonlySet<string> = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards']);

/**
 * Methods whose requests carry our Contact automatically inside a dialog (drachtio §4.8; NOTIFY
 * too, which RFC 6665 §4.1.2 requires).
 */
const contactMethods = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'UPDATE', 'NOTIFY']);

/**
 * Build a request inside a dialog (RFC 3261 §12.2.1.1): Request-URI = remote target (or the app's
 * URI when it gave a real one), From/To/Call-ID and the route set from the dialog, CSeq from the
 * app when given (srf's digest retry sends n+1) or the next local number.
 */
export function buildInDialogRequest(
  ctx: CoreContext,
  d: DialogRuntime,
  method: string,
  app?: { uri: string; headers: readonly SipHeader[]; body: Buffer },
): SipRequest | 'missing content-type' {
  const uri = !app || app.uri === 'sip:placeholder' || method === 'ACK' || method === 'PRACK' ? d.remoteTarget : app.uri;
  const req: SipRequest = { type: 'request', method, uri, headers: [], body: app?.body ?? Buffer.alloc(0) };
  for (const route of d.routeSet) addHeader(req, 'route', route);
  addHeader(req, 'max-forwards', '70');
  addHeader(req, 'from', d.localParty);
  addHeader(req, 'to', d.remoteParty);
  addHeader(req, 'call-id', d.callId);
  addHeader(req, 'cseq', `${nextCSeq(d, method, app?.headers)} ${method}`);
  const listener = ctx.deps.local.listenerFor(d.protocol) ?? ctx.deps.local.all()[0]!;
  const appHasContact = !!app?.headers.some((h) => h.name === 'contact');
  if (contactMethods.has(method) && !appHasContact) addHeader(req, 'contact', d.localContact);
  if (app) appendAppHeaders(req, app.headers, listener, dialogOwned);
  if (!ensureContentType(req)) return 'missing content-type';
  return req;
}

/** CSeq for a new in-dialog request; ACK and CANCEL reuse the INVITE's (handled by callers). */
function nextCSeq(d: DialogRuntime, method: string, appHeaders?: readonly SipHeader[]): number {
  const appCSeq = appHeaders?.find((h) => h.name === 'cseq');
  const n = appCSeq ? Number.parseInt(appCSeq.value, 10) : NaN;
  if (method === 'ACK') return d.outstandingInvite ? cseqOf(d.outstandingInvite.req) : d.localSeq;
  if (Number.isFinite(n) && n > 0) {
    d.localSeq = Math.max(d.localSeq, n);
    return n;
  }
  d.localSeq += 1;
  return d.localSeq;
}

function cseqOf(req: SipRequest): number {
  const v = req.headers.find((h) => h.name === 'cseq')?.value ?? '';
  return Number.parseInt(v, 10);
}

/**
 * Where a request inside the dialog goes: the first route (loose routing, RFC 3261 §12.2.1.1) or
 * the remote target; for UAS dialogs behind NAT the source of the dialog-creating request; over
 * connection-oriented transports, the connection the dialog was set up on when it is still open.
 */
export async function dialogDestination(d: DialogRuntime): Promise<Destination> {
  const first = d.routeSet[0];
  const flow = d.flow;
  if (first === undefined && d.natRoute) return d.natRoute;
  // RFC 7118 §5 / RFC 5626: a peer that connected to us (WebSocket always, stream transports for
  // the dialog's creator) is reached back over its own connection, whatever its Contact says.
  if (first === undefined && flow?.connectionId && (flow.protocol === 'ws' || flow.protocol === 'wss' || d.role === 'uas')) {
    const own: Destination = { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, connectionId: flow.connectionId };
    if (flow.protocol === 'ws' || flow.protocol === 'wss') return own;
    // The connection is used while it lasts; the address is where the transport connects once it
    // is gone: the Contact (RFC 3261 §12.2.1.1), not the source port of a closed connection.
    const target = await resolveUri(d.remoteTarget).catch(() => undefined);
    return target ? { protocol: flow.protocol, address: target.address, port: target.port, connectionId: flow.connectionId } : own;
  }
  const next = first !== undefined ? (parseNameAddr(first)?.uri ?? first) : d.remoteTarget;
  const dest: Destination = await resolveUri(next);
  if (flow?.connectionId && flow.protocol === dest.protocol && dest.address === flow.remote.address && dest.port === flow.remote.port) {
    return { ...dest, connectionId: flow.connectionId };
  }
  return dest;
}

/**
 * Send an ACK for a 2xx the engine built itself (a forked 2xx, a session refresh). That ACK is a
 * transaction of its own, sent once and never retransmitted (RFC 3261 §17.1.1.3), and the
 * transaction layer refuses ACKs, so it gets a fresh Via branch here and goes straight to the
 * transport.
 */
export function sendAckFor2xx(ctx: CoreContext, ack: SipRequest, dest: Destination): Buffer {
  const local = ctx.localFor(dest.protocol, familyOf(dest.address));
  prependHeader(ack, 'via', `SIP/2.0/${dest.protocol.toUpperCase()} ${uriHost(local.host)}:${local.port};branch=z9hG4bK${randomToken(8)};rport`);
  const bytes = serializeMessage(ack);
  ctx.sendRaw(bytes, dest);
  return bytes;
}

/** A fresh branch-less tag for locally generated dialogs. */
export const newTag = (): string => randomToken(4);
