/**
 * Builders for every server → client message of the drachtio admin protocol
 * (docs/drachtio-protocol.md §3.2, §3.3, §4.9, §4.10).
 *
 * srf splits the meta line on `|` keeping empty tokens and reads fields by position, so every
 * builder here fixes the exact token count, including the trailing `|` that yields a final empty
 * token: a `sip` message with 9 tokens or fewer is silently ignored by srf, and `receivedOn` is only
 * set when there are more than 11. Each builder returns the payload; frame it with `encodeFrame`.
 */
import { uuid } from '../../shared/ids.js';

export { parseClientMessage, parseProxyTimeout } from './client-command.js';
export type {
  AuthenticateCommand,
  ClientCommand,
  MalformedCommand,
  PingCommand,
  ProxyCommand,
  RemoveRouteCommand,
  RouteCommand,
  SipCommand,
  UnknownCommand,
} from './client-command.js';

const CRLF = '\r\n';

/** A value written in a meta-line slot: a string or a port number. */
type Token = string | number;

/**
 * Makes a value safe for one meta-line slot. A `|` would shift every later token and a CR/LF
 * would end the meta line early, so both become spaces (the values are informational text, IPs,
 * ports or ids, where neither occurs legitimately).
 */
function tok(value: Token): string {
  // Numbers (ports, byte counts) cannot hold a separator; strings are scanned without a regex,
  // since this runs for every slot of every message to an app.
  if (typeof value === 'number') return String(value);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x7c /* | */ || c === 0x0d || c === 0x0a) return value.replace(/[|\r\n]/g, ' ');
  }
  return value;
}

function line(tokens: readonly Token[]): string {
  let out = tok(tokens[0] ?? '');
  for (let i = 1; i < tokens.length; i++) out += '|' + tok(tokens[i] as Token);
  return out;
}

function withSip(meta: string, sip: string): string {
  return meta + CRLF + sip;
}

/**
 * The stack time srf exposes as `req.stackTime`: UTC time of day as `HH:MM:SS.uuuuuu`.
 *
 * @param epochMs milliseconds since the Unix epoch (fractions give the microseconds); defaults to
 *   the wall clock (`Date.now()`, so whole milliseconds: the monotonic clock drifts from UTC).
 */
export function stackTime(epochMs: number = Date.now()): string {
  // Every message to an app carries one, mostly within the same millisecond as the previous one.
  if (epochMs === lastStackTimeMs) return lastStackTime;
  const micros = Math.round(epochMs * 1000);
  const usec = micros % 1_000_000;
  const secOfDay = Math.floor(micros / 1_000_000) % 86_400;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  lastStackTime = `${pad(Math.floor(secOfDay / 3600))}:${pad(Math.floor(secOfDay / 60) % 60)}:${pad(secOfDay % 60)}.${pad(usec, 6)}`;
  lastStackTimeMs = epochMs;
  return lastStackTime;
}

let lastStackTimeMs = NaN;
let lastStackTime = '';

/** SIP text size as the `bytes` slot reports it: UTF-8 bytes, like the C++ server's std::string size. */
function bytes(sip: string): number {
  return Buffer.byteLength(sip, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// `response` messages: replies to a client command, keyed by the client's msgId (token 2).
// ---------------------------------------------------------------------------------------------

/**
 * `<uuid>|response|<msgId>|OK[|token…]`: the immediate success reply to a command, e.g.
 * `responseOk(id)` for route, `responseOk(id, 'pong')` for ping, and
 * `responseOk(id, hostports, version, localHostports)` for authenticate.
 */
export function responseOk(msgId: string, ...tokens: Token[]): string {
  return line([uuid(), 'response', msgId, 'OK', ...tokens]);
}

/**
 * `<uuid>|response|<msgId>|NO|<reason>`: refusal of an admin command (bad secret, unknown command),
 * as the C++ server words it; the server closes the connection after sending it.
 */
export function responseNo(msgId: string, reason: string): string {
  return line([uuid(), 'response', msgId, 'NO', reason]);
}

/** `<uuid>|response|<msgId>|NOK|<reason>`: failure of a `sip` or `proxy` command (§3.3); srf surfaces `reason`. */
export function responseNok(msgId: string, reason: string): string {
  return line([uuid(), 'response', msgId, 'NOK', reason]);
}

/** Fields of the echo for a request the server sent on behalf of the app. */
export interface RequestEchoMeta {
  protocol: string;
  /** The local transport the request left from. */
  localHost: string;
  localPort: Token;
  /** The new transaction id allocated for this request (srf keys responses on it). */
  transactionId: string;
  time?: string;
}

/**
 * The "Msg sent" echo for a request (`sip` variants 2–4):
 * `<uuid>|response|<msgId>|OK|application|<bytes>|<proto>|<localHost>|<localPort>|<time>|<txnId>|Msg sent:|`
 * CRLF `<request as sent>` (13 tokens; `Msg sent:` sits in the dialogId slot, srf ignores it for requests).
 * It must reach the client before any response to the request: srf registers the transaction only now.
 */
export function requestEcho(msgId: string, m: RequestEchoMeta, sip: string): string {
  const meta = line([uuid(), 'response', msgId, 'OK', 'application', bytes(sip), m.protocol, m.localHost,
    m.localPort, m.time ?? stackTime(), m.transactionId, 'Msg sent:', '']);
  return withSip(meta, sip);
}

/** Fields of the echo for a response the server sent on behalf of the app. */
export interface ResponseEchoMeta {
  protocol: string;
  /** Where the response was sent (the request's source). */
  remoteHost: string;
  remotePort: Token;
  /** The incoming request's transaction id. */
  transactionId: string;
  /** Required for responses to INVITE/SUBSCRIBE: srf uses it as the UAS Dialog.id and the ACK/PRACK key. */
  dialogId?: string;
  time?: string;
}

/**
 * The "Msg sent" echo for a response (`sip` variant 1):
 * `<uuid>|response|<msgId>|OK|application|<bytes>|<proto>|<remoteHost>|<remotePort>|<time>|<txnId>|<dialogId>||Msg sent:|`
 * CRLF `<response as sent>` (15 tokens; srf reads the dialogId from token 11).
 */
export function responseEcho(msgId: string, m: ResponseEchoMeta, sip: string): string {
  const meta = line([uuid(), 'response', msgId, 'OK', 'application', bytes(sip), m.protocol, m.remoteHost,
    m.remotePort, m.time ?? stackTime(), m.transactionId, m.dialogId ?? '', '', 'Msg sent:', '']);
  return withSip(meta, sip);
}

/** Where a SIP message came from, as the `sip` and proxy meta lines describe it. */
export interface PeerMeta {
  protocol: string;
  /** Remote IP the message came from. */
  address: string;
  port: Token;
  time?: string;
}

/**
 * One final response of a proxy branch (§4.9 step 5):
 * `<uuid>|response|<msgId>|OK|network|<bytes>|<proto>|<addr>|<port>|<time>|||continue` CRLF `<response>`.
 * Token 12 = `continue` keeps srf's callback alive for further frames.
 */
export function proxyContinue(msgId: string, m: PeerMeta, sip: string): string {
  const meta = line([uuid(), 'response', msgId, 'OK', 'network', bytes(sip), m.protocol, m.address, m.port,
    m.time ?? stackTime(), '', '', 'continue']);
  return withSip(meta, sip);
}

/** `<uuid>|response|<msgId>|OK|done`: the end of a proxy operation; srf resolves `proxyRequest` on it. */
export function proxyDone(msgId: string): string {
  return line([uuid(), 'response', msgId, 'OK', 'done']);
}

// ---------------------------------------------------------------------------------------------
// `sip` messages: SIP traffic for the app.
// ---------------------------------------------------------------------------------------------

function sipLine(source: string, sip: string, m: PeerMeta, rest: readonly Token[]): string {
  const meta = line([uuid(), 'sip', source, bytes(sip), m.protocol, m.address, m.port, m.time ?? stackTime(), ...rest]);
  return withSip(meta, sip);
}

/** Fields of a new out-of-dialog request from the network. */
export interface NewRequestMeta extends PeerMeta {
  transactionId: string;
  /** The local transport that received the request; srf exposes `req.receivedOn = "host:port"`. */
  recvHost: string;
  recvPort: Token;
}

/**
 * A new request from the network that matches no dialog (§4.2):
 * `<uuid>|sip|network|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>||<recvHost>|<recvPort>|` CRLF `<request>`
 * (13 tokens: the empty dialogId, then the receiving transport, then the empty session token).
 */
export function sipNewRequest(m: NewRequestMeta, sip: string): string {
  return sipLine('network', sip, m, [m.transactionId, '', m.recvHost, m.recvPort, '']);
}

/** Fields of any other SIP message from the network. */
export interface SipMessageMeta extends PeerMeta {
  transactionId: string;
  /** `<Call-ID>;from-tag=<tag>`, or empty for messages outside a dialog. */
  dialogId?: string;
}

/**
 * Any other SIP message from the network: in-dialog requests, responses to app requests, ACKs, a
 * CANCEL after the app's first provisional (§4.5):
 * `<uuid>|sip|network|<bytes>|<proto>|<addr>|<port>|<time>|<txnId>|<dialogId>|` CRLF `<sip>` (11 tokens).
 */
export function sipMessage(m: SipMessageMeta, sip: string): string {
  return sipLine('network', sip, m, [m.transactionId, m.dialogId ?? '', '']);
}

/** Fields of the quick-CANCEL notice. */
export interface CancelNoticeMeta extends PeerMeta {
  /** The transaction id the pending INVITE was delivered with; srf matches the CANCEL by Call-ID. */
  inviteTransactionId: string;
}

/**
 * A CANCEL for an INVITE still waiting for the app's first response (§4.2); the server has already
 * answered 200/487, srf only emits `cancel` on the request:
 * `<uuid>|sip|network|<bytes>|<proto>|<addr>|<port>|<time>|<inviteTxn>||` CRLF `<CANCEL>` (11 tokens).
 */
export function sipCancelNotice(m: CancelNoticeMeta, sip: string): string {
  return sipLine('network', sip, m, [m.inviteTransactionId, '', '']);
}

/** Fields of a server-generated BYE. */
export interface UnsolicitedByeMeta {
  protocol: string;
  /** The local transport the BYE left from (the `application` source reports the local side). */
  localHost: string;
  localPort: Token;
  dialogId: string;
  time?: string;
}

/**
 * A BYE the server generated itself (ACK timeout, session-timer expiry, CANCEL/ACK races; §4.10):
 * `<uuid>|sip|application|<bytes>|<proto>|<localHost>|<localPort>|<time>|unsolicited|<dialogId>|` CRLF `<BYE>`.
 * srf dispatches it to the dialog with `res.send` stubbed out; the dialog emits `destroy`.
 */
export function sipUnsolicitedBye(m: UnsolicitedByeMeta, sip: string): string {
  const peer: PeerMeta = { protocol: m.protocol, address: m.localHost, port: m.localPort };
  if (m.time !== undefined) peer.time = m.time;
  return sipLine('application', sip, peer, ['unsolicited', m.dialogId, '']);
}

// ---------------------------------------------------------------------------------------------
// CDR events (§3.2): sent to one client that routed the `cdr:*` verb.
// ---------------------------------------------------------------------------------------------

/** Who produced the message a CDR event refers to. */
export type CdrSource = 'network' | 'application';
/** The role of the server in a `cdr:start`. */
export type CdrRole = 'uac' | 'uas' | 'proxy-uac' | 'proxy-uas';

/** `<uuid>|cdr:attempt|<source>|<time>` CRLF `<SIP>`: srf calls the handler as `(source, time, msg)`. */
export function cdrAttempt(m: { source: CdrSource; time?: string }, sip: string): string {
  return withSip(line([uuid(), 'cdr:attempt', m.source, m.time ?? stackTime()]), sip);
}

/** `<uuid>|cdr:start|<source>|<time>|<role>` CRLF `<SIP>`: handler `(source, time, role, msg)`. */
export function cdrStart(m: { source: CdrSource; role: CdrRole; time?: string }, sip: string): string {
  return withSip(line([uuid(), 'cdr:start', m.source, m.time ?? stackTime(), m.role]), sip);
}

/**
 * `<uuid>|cdr:stop|<source>|<time>|<reason>` CRLF `<SIP>`: handler `(source, time, reason, msg)`;
 * reason is e.g. `call-rejected`, `call-canceled`, `normal-release`, `session-expired`.
 */
export function cdrStop(m: { source: CdrSource; reason: string; time?: string }, sip: string): string {
  return withSip(line([uuid(), 'cdr:stop', m.source, m.time ?? stackTime(), m.reason]), sip);
}
