/** Public surface of the SIP transport layer (RFC 3261 §18, RFC 7118); the rest of the folder is internal. */
export { parseContactSpecs, type ContactOptions } from './contact-spec.js';
export { responseDestination } from './response-routing.js';
export {
  TransportLayer,
  type FramingErrorEvent,
  type TlsClientOptions,
  type TransportEvents,
  type TransportLayerOptions,
  type TransportLog,
} from './transport-layer.js';
export { inCidr, normalizeAddress } from './address.js';
export type * from './types.js';
