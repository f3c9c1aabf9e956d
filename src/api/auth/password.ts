import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing for users (issue 3 §3): scrypt, because it is memory-hard and ships with Node
 * (no native dependency to build on a PBX box). Stored as a PHC-like string
 * `$scrypt$ln=15,r=8,p=1$<salt b64>$<hash b64>` so the cost can be raised later while old hashes
 * still verify with the parameters they were made with.
 */

/** log2(N): 2^15 × r=8 needs 32 MiB and ~0.1 s per hash on a small box — slow for guessing, fine for a login. */
export const SCRYPT_LN = 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds on parameters read back from a stored hash, so a corrupt row cannot ask for gigabytes. */
const LN_MIN = 10;
const LN_MAX = 20;

/** Node's default scrypt maxmem (32 MiB) is exactly 128·N·r at ln=15, which it rejects; allow headroom. */
function maxmem(ln: number, r: number): number {
  return 128 * 2 ** ln * r * 2;
}

function scryptAsync(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  // The async form runs on libuv's thread pool, so hashing never blocks the event loop (SIP and API).
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

/** Hashes `password` with a fresh random salt. */
export async function hashPassword(password: string, ln = SCRYPT_LN): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, KEY_BYTES, { N: 2 ** ln, r: SCRYPT_R, p: SCRYPT_P, maxmem: maxmem(ln, SCRYPT_R) });
  return `$scrypt$ln=${ln},r=${SCRYPT_R},p=${SCRYPT_P}$${b64(salt)}$${b64(key)}`;
}

interface ParsedHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const PHC = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parse(stored: string): ParsedHash | undefined {
  const m = PHC.exec(stored);
  if (!m) return undefined;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < LN_MIN || ln > LN_MAX || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  return { ln, r, p, salt: Buffer.from(m[4] ?? '', 'base64'), key: Buffer.from(m[5] ?? '', 'base64') };
}

/**
 * True if `password` matches `stored`. Compares in constant time; a malformed stored value is
 * simply no match (it is still hashed against the dummy, so the time taken does not say which).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  const target = parsed ?? parse(await dummyHash());
  if (!target) return false;
  const key = await scryptAsync(password, target.salt, target.key.length, {
    N: 2 ** target.ln,
    r: target.r,
    p: target.p,
    maxmem: maxmem(target.ln, target.r),
  });
  return parsed !== undefined && key.length === target.key.length && timingSafeEqual(key, target.key);
}

let dummy: Promise<string> | undefined;

/** A hash of a random password, made once: what an unknown email is verified against. */
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(18).toString('base64'));
  return dummy;
}

/**
 * Makes the dummy hash ahead of the first login (the login routes call this when registered), so
 * the first unknown-email login is not the one request that also pays for creating it.
 */
export function prepareDummyHash(): void {
  void dummyHash();
}

/**
 * Spends the same work as a real verification and returns false. Login calls this when the email
 * is unknown, so response time does not tell an attacker which emails have accounts.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  await verifyPassword(password, await dummyHash());
  return false;
}
