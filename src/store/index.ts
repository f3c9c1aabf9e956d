/**
 * The store's public surface: what sip/, api/ and main.ts import, so they never reach into an
 * entity folder's internals or need kysely themselves for ordinary use.
 */
export * from './database.js';
export { migrateToLatest } from './migrate.js';
export { translateDbError, withDbErrors } from './db-errors.js';
export { encryptSecret, decryptSecret } from './secrets.js';
export { bumpStoreVersion, noteBindingsRemoved, storeVersion, takeBindingsRemoved, type VersionedTable } from './change-version.js';
export * from './tenants/tenant.repository.js';
export * from './sites/site.repository.js';
export * from './users/user.repository.js';
export type { UserRole } from './users/user.table.js';
export * from './api-keys/api-key.repository.js';
export * from './extensions/extension.repository.js';
export * from './registrations/registration.repository.js';
export * from './audit/audit.repository.js';
export * from './idempotency/idempotency-key.repository.js';
export * from './sessions/session.repository.js';
export * from './idempotency/sqlite-idempotency-store.js';
export * from './user-mappings/user-mapping.repository.js';
export * from './request-log/request-log.repository.js';
export * from './request-log/request-log.writer.js';
export * from './metrics/counts.repository.js';
export * from './calls/call.repository.js';
export * from './calls/cdr.repository.js';
export * from './ring-groups/ring-group.repository.js';
export { dialNumberOwner, type DialNumberOwner } from './dial-numbers.js';
export * from './webhooks/webhook.repository.js';
export * from './webhooks/webhook-delivery.repository.js';
export * from './webhooks/delivery-queue.repository.js';
export * from './webhooks/delivery-cursor.repository.js';
export * from './webhooks/delivery-run.repository.js';
export * from './outbox/outbox.repository.js';
export type { BreakerState, DeliveryRunItem, DeliveryStatus } from './webhooks/webhook.table.js';
export type { CallDirection, CdrDisposition, CdrTable, StoredCallState, StoredFinalCallState } from './calls/call.table.js';
