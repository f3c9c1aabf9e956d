/**
 * Stateless signed nonces for digest authentication (RFC 7616 §3.3 and §5.4 on nonce design,
 * RFC 3261 §22.4) and nonce-count replay tracking for `qop=auth` (RFC 7616 §3.4.5).
 */
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';

/** Result of {@link NonceSigner.verify}. */
export type NonceStatus = 'valid' | 'stale' | 'invalid';

/** Options of {@link NonceSigner}. */
export interface NonceSignerOptions {
  /** HMAC key shared by every instance that must accept the nonces; at least 16 bytes. */
  secret: Buffer | string;
  /**
   * Time source for the embedded timestamp. Instances sharing `secret` must share its epoch: give
   * them a wall clock (`{ now: Date.now, … }`) when nonces must be verified by another process.
   */
  clock: Clock;
  /** Nonce lifetime in ms; older nonces with a good signature are `stale` (default 300 000). */
  lifetimeMs?: number;
  /** Tolerated clock skew for timestamps in the future, in ms (default 5 000). */
  maxFutureSkewMs?: number;
}

const TS_BYTES = 8;
const RANDOM_BYTES = 12;
const MAC_BYTES = 32;
const NONCE_BYTES = TS_BYTES + RANDOM_BYTES + MAC_BYTES;
const NONCE_CHARS = Math.ceil((NONCE_BYTES * 4) / 3);

/**
 * Issues and verifies nonces of the form
 * `base64url(timestamp(8) ‖ random(12) ‖ HMAC-SHA256(secret, timestamp ‖ random ‖ realm ‖ binding))`.
 * Any instance holding the secret verifies them without storage. The realm is signed, so a nonce
 * issued for one tenant is `invalid` for another; an optional `binding` (e.g. the source address)
 * ties a nonce to more context (reliability R8: an Authorization replayed from elsewhere fails).
 */
export class NonceSigner {
  private readonly secret: Buffer;
  private readonly clock: Clock;
  private readonly lifetimeMs: number;
  private readonly maxFutureSkewMs: number;

  constructor(options: NonceSignerOptions) {
    this.secret = Buffer.isBuffer(options.secret) ? options.secret : Buffer.from(options.secret, 'utf8');
    if (this.secret.length < 16) throw new Error('NonceSigner: secret must be at least 16 bytes');
    this.clock = options.clock;
    this.lifetimeMs = options.lifetimeMs ?? 300_000;
    this.maxFutureSkewMs = options.maxFutureSkewMs ?? 5_000;
  }

  /** A fresh nonce for `realm` (and `binding`, if verification will pass the same one). */
  issue(realm: string, binding = ''): string {
    const nonce = Buffer.allocUnsafe(NONCE_BYTES);
    nonce.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.clock.now()))), 0);
    takeRandom(nonce, TS_BYTES, RANDOM_BYTES);
    const head = nonce.subarray(0, TS_BYTES + RANDOM_BYTES);
    this.mac(head, realm, binding).copy(nonce, TS_BYTES + RANDOM_BYTES);
    return nonce.toString('base64url');
  }

  /**
   * `valid` within the lifetime; `stale` if the signature is good but the nonce expired (answer
   * with a new challenge carrying `stale=true`, RFC 7616 §3.3); `invalid` for anything forged,
   * tampered, truncated, for another realm/binding, or dated too far in the future. `now`
   * defaults to the clock's.
   */
  verify(nonce: string, realm: string, binding = '', now = this.clock.now()): NonceStatus {
    if (typeof nonce !== 'string' || nonce.length !== NONCE_CHARS || !/^[A-Za-z0-9_-]+$/.test(nonce)) {
      return 'invalid';
    }
    const raw = Buffer.from(nonce, 'base64url');
    if (raw.length !== NONCE_BYTES) return 'invalid';
    const head = raw.subarray(0, TS_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(raw.subarray(TS_BYTES + RANDOM_BYTES), this.mac(head, realm, binding))) {
      return 'invalid';
    }
    const issuedAt = Number(head.readBigUInt64BE(0));
    const age = now - issuedAt;
    if (age < -this.maxFutureSkewMs) return 'invalid';
    return age > this.lifetimeMs ? 'stale' : 'valid';
  }

  private mac(head: Buffer, realm: string, binding: string): Buffer {
    // Length-prefix the variable parts so (realm, binding) pairs cannot collide. The strings go
    // to the HMAC as UTF-8 directly: the same bytes as Buffer.from(…), without two buffers per call.
    const lens = this.lens;
    lens.writeUInt32BE(Buffer.byteLength(realm, 'utf8'), 0);
    lens.writeUInt32BE(Buffer.byteLength(binding, 'utf8'), 4);
    return createHmac('sha256', this.secret).update(head).update(lens).update(realm, 'utf8').update(binding, 'utf8').digest();
  }

  /** Scratch for {@link mac}'s length prefix: update() copies it, so one buffer serves every call. */
  private readonly lens = Buffer.alloc(8);
}

/**
 * Nonce randomness drawn from the OS in blocks and handed out in slices: one randomBytes() call
 * per challenge (two per registration) showed up in registrar profiles. Each slice is used once.
 */
const randomPool = Buffer.alloc(4096);
let randomPoolOffset = randomPool.length;

function takeRandom(into: Buffer, at: number, count: number): void {
  if (randomPoolOffset + count > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  randomPool.copy(into, at, randomPoolOffset, randomPoolOffset + count);
  randomPoolOffset += count;
}

/**
 * Highest nonce-count seen per nonce, in a bounded LRU map (RFC 7616 §3.4.5: the server keeps the
 * count to detect replays; reliability R8). Entries only need to outlive the nonce lifetime; an
 * evicted nonce is forgotten, so size `capacity` above the number of nonces in use per lifetime.
 */
export class NonceCountTracker {
  private readonly seen = new Map<string, number>();

  constructor(private readonly capacity = 100_000) {
    if (!(capacity >= 1)) throw new Error('NonceCountTracker: capacity must be ≥ 1');
  }

  /**
   * Record `nc` for `nonce` if it is strictly greater than every count seen before; return
   * false (a replay) otherwise. Call only after the response has been verified, so that
   * unauthenticated requests cannot consume counts.
   */
  accept(nonce: string, nc: number): boolean {
    const last = this.seen.get(nonce);
    if (last !== undefined && nc <= last) return false;
    this.seen.delete(nonce);
    this.seen.set(nonce, nc);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return true;
  }

  /** Highest count accepted for `nonce`, if still remembered. */
  last(nonce: string): number | undefined {
    return this.seen.get(nonce);
  }

  get size(): number {
    return this.seen.size;
  }
}

/** Parse an `nc` value: exactly 8 hex digits (RFC 7616 §3.4), as a number; undefined otherwise. */
export function parseNonceCount(nc: string | undefined): number | undefined {
  if (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc)) return undefined;
  return Number.parseInt(nc, 16);
}
