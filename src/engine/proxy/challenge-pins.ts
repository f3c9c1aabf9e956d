import type { Clock, TimerHandle } from '../../shared/clock.js';
import { getHeader } from '../message/headers.js';
import type { SipMessage } from '../message/types.js';

/**
 * Challenge pinning (drachtio-protocol §4.9 step 4): when a branch answers 401/407, the UAC's
 * retry with credentials arrives as a new request that the app proxies again, possibly to several
 * targets; it must reach the one that issued the nonce (RFC 2617 §3.2.2: the nonce is only valid
 * there). drachtio keys the target by nonce and checks the realm too.
 */

interface Pin {
  realm: string;
  target: string;
  timer: TimerHandle;
}

/** Reads `name="value"` or `name=value` from a Digest challenge or credentials header (RFC 2617 §3.2.1). */
export function authParam(value: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^\\s,]+))`, 'i');
  const m = re.exec(value.replace(/^\s*digest\s+/i, ' '));
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}

export class ChallengePins {
  private readonly pins = new Map<string, Pin>();

  /**
   * @param ttlMs how long a challenge waits for its retry; drachtio uses 2 s, which a human at a
   *   phone entering a password would miss, so callers usually pass more.
   * @param maxPins bound on remembered challenges, so a flood of 401s cannot grow memory.
   */
  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 30_000,
    private readonly maxPins = 10_000,
  ) {}

  /** Remember the target that sent this 401/407; false when it carries no nonce and realm. */
  remember(res: SipMessage, target: string): boolean {
    const challenge = getHeader(res, 'www-authenticate') ?? getHeader(res, 'proxy-authenticate');
    const nonce = challenge ? authParam(challenge, 'nonce') : undefined;
    const realm = challenge ? authParam(challenge, 'realm') : undefined;
    if (!nonce || realm === undefined) return false;
    this.forget(nonce);
    if (this.pins.size >= this.maxPins) {
      const oldest = this.pins.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
    const timer = this.clock.setTimeout(() => this.pins.delete(nonce), this.ttlMs);
    this.pins.set(nonce, { realm, target, timer });
    return true;
  }

  /** The target a credentialled retry must go to (consumed), or undefined. */
  take(req: SipMessage): string | undefined {
    const creds = getHeader(req, 'authorization') ?? getHeader(req, 'proxy-authorization');
    const nonce = creds ? authParam(creds, 'nonce') : undefined;
    if (!creds || !nonce) return undefined;
    const pin = this.pins.get(nonce);
    if (!pin || pin.realm !== (authParam(creds, 'realm') ?? '')) return undefined;
    this.forget(nonce);
    return pin.target;
  }

  get size(): number {
    return this.pins.size;
  }

  private forget(nonce: string): void {
    const pin = this.pins.get(nonce);
    if (!pin) return;
    this.clock.clearTimeout(pin.timer);
    this.pins.delete(nonce);
  }
}
