/**
 * Kept so existing imports still work: the implementation moved to the store
 * (src/store/idempotency/sqlite-idempotency-store.ts), the only layer that queries tables.
 */
export { SqliteIdempotencyStore } from '../store/index.js';
