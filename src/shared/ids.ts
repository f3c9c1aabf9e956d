import { randomFillSync, randomUUID } from 'node:crypto';

/** A UUID v4, as drachtio uses for message and transaction ids. */
export const uuid = (): string => randomUUID();

/**
 * Random bytes are drawn from the OS in blocks and handed out in slices: tags and branches are
 * made for every SIP message, and one `randomBytes` call each showed up in engine profiles.
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

/** A random token of `bytes` bytes in lowercase hex; used for tags, branches and Call-IDs. */
export function randomToken(bytes = 8): string {
  if (bytes > pool.length) return randomFillSync(Buffer.alloc(bytes)).toString('hex');
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const token = pool.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return token;
}

/**
 * A UUID v7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made in time order sort
 * in time order, so rows keyed by them are appended to the primary-key index instead of inserted at
 * random places in it (webhook deliveries: ~25% less insert time at 20,000 rows a second).
 */
export function uuidv7(now = Date.now()): string {
  const ts = now.toString(16).padStart(12, '0');
  // 20 random hex digits from the pooled source (a syscall per id showed in profiles); 2 bits of one are the variant.
  const r = randomToken(10);
  const variant = (8 | (parseInt(r[3] as string, 16) & 3)).toString(16);
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${r.slice(0, 3)}-${variant}${r.slice(4, 7)}-${r.slice(7, 19)}`;
}

/**
 * `count` (≤ 65,536) UUID v7 ids that differ only in their last four hex digits, which hold their
 * index: one random draw for the block, and each id names the block (its index-0 id) and its place
 * in it. The webhook dispatcher numbers a page's deliveries this way, so the delivery log can keep
 * a page's successes as one row and still find any of them by its delivery id.
 */
export function uuidv7Block(count: number, now = Date.now()): string[] {
  if (count > 0x10000) throw new RangeError(`a block holds at most 65,536 ids, not ${count}`);
  const head = uuidv7(now).slice(0, -4);
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = head + (0x10000 + i).toString(16).slice(1);
  return ids;
}
