/**
 * Parser for the six client → server commands of the drachtio admin protocol
 * (docs/drachtio-protocol.md §3.1), as drachtio-srf's `lib/drachtio-agent.js` writes them.
 *
 * The meta line is everything before the first `\r`; the SIP text, if any, follows the CRLF.
 * Meta tokens are split on `|` keeping empty tokens, because positions carry meaning.
 */

/** `authenticate|<secret>|<tag,tag…>`: the first command on every connection. */
export interface AuthenticateCommand {
  type: 'authenticate';
  msgId: string;
  secret: string;
  /** Tags as sent (empty entries dropped); validated by the server, not here. */
  tags: string[];
}

/** `route|<verb>`: the app wants new requests of this method (or `cdr:*` events). */
export interface RouteCommand {
  type: 'route';
  msgId: string;
  /** Lowercased, as the server matches lowercased methods against it. */
  verb: string;
}

/** `remove_route|<verb>`: the app no longer wants this one verb. */
export interface RemoveRouteCommand {
  type: 'remove_route';
  msgId: string;
  /** Lowercased. */
  verb: string;
}

/** `ping`: keepalive; answered `OK|pong`. */
export interface PingCommand {
  type: 'ping';
  msgId: string;
}

/**
 * `sip|<transactionId>|<dialogId>[|<routeUri>]` CRLF `<SIP message>`. Which of the four variants
 * it is (response, in-dialog request, CANCEL, new request; §3.1) is decided by the dialog core
 * from the start line and these ids.
 */
export interface SipCommand {
  type: 'sip';
  msgId: string;
  /** Empty when absent. */
  transactionId: string;
  /** Empty when absent. */
  dialogId: string;
  /** Next hop for this one request (srf's `opts.proxy`); absent when the token is missing or empty. */
  routeUri?: string;
  /** The raw SIP text: start line, headers, blank line, body. Its Content-Length counts UTF-16 units (§1). */
  sip: string;
}

/**
 * `proxy|<txnId>|<remainInDialog>|<fullResponse>|<followRedirects>|<simultaneous|serial>|<provisionalTimeout>|<finalTimeout>|<dest>…`
 * CRLF `<start line + headers>` (§4.9).
 */
export interface ProxyCommand {
  type: 'proxy';
  msgId: string;
  /** The pending incoming request to proxy. */
  transactionId: string;
  remainInDialog: boolean;
  fullResponse: boolean;
  followRedirects: boolean;
  /** True for `simultaneous` (parallel forking), false for `serial`. */
  simultaneous: boolean;
  /** As sent, e.g. `2s`, `500ms` or empty; see {@link parseProxyTimeout}. */
  provisionalTimeout: string;
  /** As sent; the C++ server parses but ignores it. */
  finalTimeout: string;
  /** Targets in order, empty tokens dropped; srf has already prefixed `sip:` where needed. */
  destinations: string[];
  /** `<METHOD> <dest[0]> SIP/2.0`, the app's extra headers and Content-Length, no body. */
  sip: string;
}

/** A command token the server does not know: answered `NO|Unknown message type`, then disconnect. */
export interface UnknownCommand {
  type: 'unknown';
  msgId: string;
  command: string;
}

/** A known command with missing pieces (srf never sends one); the connection stays usable. */
export interface MalformedCommand {
  type: 'malformed';
  msgId: string;
  command: string;
  reason: string;
}

/** Every client command, discriminated by `type`. */
export type ClientCommand =
  | AuthenticateCommand
  | RouteCommand
  | RemoveRouteCommand
  | PingCommand
  | SipCommand
  | ProxyCommand
  | UnknownCommand
  | MalformedCommand;

/** Splits a payload into its meta tokens and the SIP text after the first CRLF (undefined when there is no CR). */
function split(payload: string): { tokens: string[]; sip: string | undefined } {
  const cr = payload.indexOf('\r');
  if (cr < 0) return { tokens: payload.split('|'), sip: undefined };
  const skip = payload[cr + 1] === '\n' ? 2 : 1;
  return { tokens: payload.slice(0, cr).split('|'), sip: payload.slice(cr + skip) };
}

/**
 * Parses one client payload (one decoded frame). Never throws: anything it cannot use comes back
 * as `unknown` or `malformed`, so garbage from a client can never take the process down.
 */
export function parseClientMessage(payload: string): ClientCommand {
  const { tokens, sip } = split(payload);
  const at = (i: number): string => tokens[i] ?? '';
  const msgId = at(0);
  const command = at(1);
  const malformed = (reason: string): MalformedCommand => ({ type: 'malformed', msgId, command, reason });

  switch (command) {
    case 'authenticate': {
      // srf writes exactly `authenticate|secret|tags`, so the tags are the last token and a
      // secret that itself contains `|` is still recovered whole.
      const secret = tokens.length > 3 ? tokens.slice(2, -1).join('|') : at(2);
      const tagList = tokens.length > 3 ? at(tokens.length - 1) : '';
      return { type: 'authenticate', msgId, secret, tags: tagList.split(',').filter((t) => t.length > 0) };
    }
    case 'route':
    case 'remove_route': {
      const verb = at(2).trim().toLowerCase();
      if (!verb) return malformed('missing verb');
      return { type: command, msgId, verb };
    }
    case 'ping':
      return { type: 'ping', msgId };
    case 'sip': {
      if (sip === undefined || sip.length === 0) return malformed('missing SIP message');
      const cmd: SipCommand = { type: 'sip', msgId, transactionId: at(2), dialogId: at(3), sip };
      if (at(4)) cmd.routeUri = at(4);
      return cmd;
    }
    case 'proxy': {
      if (sip === undefined || sip.length === 0) return malformed('missing SIP message');
      if (!at(2)) return malformed('missing transaction id');
      const destinations = tokens.slice(9).filter((d) => d.length > 0);
      if (destinations.length === 0) return malformed('missing destination');
      return {
        type: 'proxy',
        msgId,
        transactionId: at(2),
        remainInDialog: at(3) !== '',
        fullResponse: at(4) !== '',
        followRedirects: at(5) !== '',
        simultaneous: at(6) === 'simultaneous',
        provisionalTimeout: at(7),
        finalTimeout: at(8),
        destinations,
        sip,
      };
    }
    default:
      return { type: 'unknown', msgId, command };
  }
}

/**
 * Converts a proxy timeout as srf passes it (`'2s'`, `'1500ms'`; a bare number is taken as
 * milliseconds) to milliseconds; undefined when empty or unparseable, meaning "no timeout".
 */
export function parseProxyTimeout(value: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|s)?\s*$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 's' ? n * 1000 : n;
}
