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
