/**
 * The drachtio admin-protocol side of the engine: framing, message layouts, and the server that
 * drachtio-srf apps connect to (docs/drachtio-protocol.md §1–§3). The dialog core implements
 * {@link WireHandler} and writes replies with `ClientConnection.send` using the builders in `meta`.
 */
export { encodeFrame, FrameDecoder, FrameError, DEFAULT_MAX_FRAME_BYTES } from './framing.js';
export type { FrameDecoderOptions } from './framing.js';
export * from './meta.js';
export { ClientConnection } from './client-connection.js';
export type { ConnectionMode } from './client-connection.js';
export { WireServer } from './wire-server.js';
export { parseOutboundUri } from './outbound.js';
export type { OutboundTarget } from './outbound.js';
export { silentLogger } from './types.js';
export type { WireHandler, WireLogger, WireServerOptions } from './types.js';
