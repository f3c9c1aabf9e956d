/**
 * Public surface of the RFC 3261 §17 transaction layer (with RFC 6026's Accepted states). The
 * engine wires a {@link TransactionLayer} between the transports and the dialog/proxy/wire layers.
 */
export {
  TransactionLayer,
  type ClientTransaction,
  type InboundRequestResult,
  type SendRequestOptions,
  type ServerTransaction,
  type TransactionLayerOptions,
} from './transaction-layer.js';
export { ServerInviteTransaction, type ServerInviteState } from './server-invite.js';
export { ServerNonInviteTransaction, type ServerNonInviteState } from './server-non-invite.js';
export { ClientInviteTransaction, type CancelState, type ClientInviteState } from './client-invite.js';
export { ClientNonInviteTransaction, type ClientNonInviteState } from './client-non-invite.js';
export type { TerminationReason } from './server-transaction.js';
export type { TransactionLog } from './context.js';
export { MAGIC_COOKIE, isRfc3261Branch, type IdentityError } from './keys.js';
export { buildAckForNon2xx, buildCancel } from './derived-requests.js';
export * from './types.js';
