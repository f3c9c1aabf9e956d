import type Srf from 'drachtio-srf';
import type { Logger } from '../obs/logger.js';

/**
 * What the PBX tells a peer it can do, in a 200 to OPTIONS (RFC 3261 §11.2). Honest by design:
 * `allow` lists only the methods the app answers today, so the list grows with the handlers that
 * later features register, and a phone never tries a method that would only earn a 405 or 501.
 */
export interface SipCapabilities {
  /** Methods answered (RFC 3261 §20.5). */
  readonly allow: readonly string[];
  /** Body types accepted (§20.1); application/sdp is what SIP assumes when the header is absent. */
  readonly accept: readonly string[];
  /** Option tags of supported extensions (§20.37); empty means "no extensions". */
  readonly supported: readonly string[];
}

/** Build the header set of an OPTIONS 200; exported for tests and for handlers that reuse it. */
export function capabilityHeaders(caps: SipCapabilities): Record<string, string> {
  return {
    Allow: caps.allow.join(', '),
    Accept: caps.accept.join(', '),
    // RFC 3261 §11.2 says these SHOULD be present too; we send bodies as they are, in English.
    'Accept-Encoding': 'identity',
    'Accept-Language': 'en',
    Supported: caps.supported.join(', '),
  };
}

/**
 * Answer out-of-dialog OPTIONS with 200 and our capabilities. Phones and SBCs send OPTIONS as a
 * keepalive and health probe ("qualify"), and load testers point SIPp at it first, so the PBX
 * answers it from the first start, before any other feature exists.
 */
export function answerOptions(srf: Srf, caps: SipCapabilities | (() => SipCapabilities), log: Logger): void {
  // A getter lets the answer grow as features start (the registrar adds REGISTER after seeding).
  const current = typeof caps === 'function' ? caps : () => caps;
  srf.use('options', (req, res) => {
    log.debug({ callId: req.get('Call-ID'), from: req.source_address, protocol: req.protocol }, 'OPTIONS answered');
    // A fresh object each time: srf mutates the opts it is given (it strips To, for example).
    res.send(200, { headers: capabilityHeaders(current()) });
  });
}
