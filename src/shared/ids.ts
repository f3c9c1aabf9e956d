import { randomBytes, randomUUID } from 'node:crypto';

/** A UUID v4, as drachtio uses for message and transaction ids. */
export const uuid = (): string => randomUUID();

/** A random token of `bytes` bytes in lowercase hex; used for tags, branches and Call-IDs. */
export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}
