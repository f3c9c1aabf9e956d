/**
 * The SIP message model shared by every engine layer (RFC 3261 §7).
 *
 * Messages keep their headers as an ordered list of lines, with values unfolded but otherwise as
 * received: the engine forwards most headers untouched to drachtio-srf, which parses them itself.
 * Structured views (Via, name-addr, CSeq, URIs) are parsed on demand by the helpers in this folder.
 */

export interface SipHeader {
  /** Canonical lowercase long name: compact forms are expanded (`v` → `via`, `l` → `content-length`). */
  name: string;
  /** The name exactly as it appeared on the wire (or as the application wrote it). */
  rawName: string;
  /** The value with line folding replaced by a single space and surrounding whitespace trimmed. */
  value: string;
}

interface SipMessageBase {
  /** Header lines in wire order; a comma-separated list stays one entry. */
  headers: SipHeader[];
  /** Body bytes, exactly Content-Length long (binary-safe). */
  body: Buffer;
}

export interface SipRequest extends SipMessageBase {
  type: 'request';
  /** Method token, case-sensitive as on the wire (RFC 3261 §7.1: methods are case-sensitive). */
  method: string;
  /** Request-URI as written on the wire. */
  uri: string;
}

export interface SipResponse extends SipMessageBase {
  type: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/** One value of a Via header (RFC 3261 §20.42). */
export interface Via {
  /** `SIP/2.0/UDP` → 'UDP' (upper-cased). */
  transport: string;
  host: string;
  port?: number;
  /** Parameters in order; a parameter without a value maps to `null`. Names lowercased. */
  params: Map<string, string | null>;
  /** The branch parameter, if any. */
  branch?: string;
}

/** A name-addr or addr-spec as used in From, To, Contact, Route, Record-Route, Refer-To… */
export interface NameAddr {
  /** Display name without quotes and with escapes resolved; undefined when absent. */
  displayName?: string;
  /** The URI as written (without the enclosing angle brackets). */
  uri: string;
  /** Header parameters (after the `>` or, for addr-spec, after the URI). Names lowercased. */
  params: Map<string, string | null>;
  /** Whether the URI was enclosed in `<…>`. */
  bracketed: boolean;
}

export interface CSeq {
  seq: number;
  method: string;
}

/** sip: or sips: URI (RFC 3261 §19.1). */
export interface SipUri {
  scheme: 'sip' | 'sips';
  /** User part still %-escaped as on the wire; undefined when absent. */
  user?: string;
  password?: string;
  /** Host as written; IPv6 references keep their brackets (`[::1]`). */
  host: string;
  port?: number;
  /** URI parameters (`;transport=tcp;lr`). Names lowercased; valueless params map to null. */
  params: Map<string, string | null>;
  /** URI headers (`?Route=…`), still escaped. */
  headers: Map<string, string>;
}

export interface TelUri {
  scheme: 'tel';
  number: string;
  params: Map<string, string | null>;
}

/** Any other absolute URI (RFC 3986) that the engine does not interpret. */
export interface OtherUri {
  scheme: string;
  value: string;
}

export type Uri = SipUri | TelUri | OtherUri;

/** Where a message came from or goes to; a flow is what RFC 5626/3581 call the 5-tuple plus connection. */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

export interface HostPort {
  address: string;
  port: number;
}
