import type { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import type { Logger } from '../obs/logger.js';

/** The drachtio admin socket to connect to: the embedded engine or an external drachtio-server. */
export interface EngineEndpoint {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

/** What the engine announced in its authenticate reply (drachtio-protocol §2.1 step 3). */
export interface EngineInfo {
  /** SIP transports as `proto/host:port`, e.g. `udp/192.0.2.10:5060`. */
  readonly hostports: readonly string[];
  readonly version: string;
}

/** A live app ↔ engine connection. */
export interface EngineConnection {
  /** Settles on the first successful authentication; rejects if the engine refuses the secret. */
  readonly ready: Promise<EngineInfo>;
  /** Stop reconnecting and close the socket. Safe to call more than once. */
  close(): Promise<void>;
}

/**
 * srf.connect options the shipped typings leave out (drachtio-srf lib/wire-protocol.js):
 * `enablePing` keeps NATs and idle-timeouts from silently killing the socket (§2.3); `reconnect`
 * caps srf's backoff, 150 ms × 1.7 per attempt, which would otherwise grow without bound.
 */
interface InboundConnectOptions extends Srf.SrfConfig {
  enablePing?: boolean;
  pingInterval?: number;
  reconnect?: { retryMaxDelay?: number; maxAttempts?: number; connectTimeout?: number };
}

/** Longest pause between reconnect attempts: short enough that a restarted engine is found quickly. */
const retryMaxDelayMs = 5000;

/**
 * Connect `srf` to the engine in inbound mode (drachtio-protocol §2.1), with ping and automatic
 * reconnect. Register request handlers on `srf` before calling this, so their routes go out
 * with the first authentication. Logs each (re)connection with the engine's SIP transports.
 */
export function connectToEngine(srf: Srf, endpoint: EngineEndpoint, log: Logger): EngineConnection {
  let closing = false;
  let connected = false;
  let everConnected = false;
  // srf types its events narrowly; the wire-level ones (reconnecting, close) are plain emitter events.
  const events: EventEmitter = srf;

  const ready = new Promise<EngineInfo>((resolve, reject) => {
    srf.on('connect', (err: Error | null, hostport?: string, version?: string) => {
      if (err) {
        // A wrong secret will not fix itself by retrying: fail the start, and let the caller log it.
        const refused = new Error(`the SIP engine at ${endpoint.host}:${endpoint.port} refused the app (wrong secret?)`, { cause: err });
        if (everConnected) log.error({ err: refused }, 'the SIP engine refused the app');
        else reject(refused);
        return;
      }
      const info: EngineInfo = { hostports: (hostport ?? '').split(',').filter(Boolean), version: version ?? '' };
      log.info({ engine: `${endpoint.host}:${endpoint.port}`, hostports: info.hostports, version: info.version }, everConnected ? 'app reconnected to the SIP engine' : 'app connected to the SIP engine');
      connected = true;
      everConnected = true;
      resolve(info);
    });
  });
  srf.on('error', (err: Error) => {
    if (closing) return;
    // srf retries by itself after socket errors; each attempt is backed off, so this stays quiet.
    log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'SIP engine connection error');
  });
  events.on('reconnecting', (opts: { delay: number; attempt: number }) => {
    log.debug(opts, 'reconnecting to the SIP engine');
  });
  events.on('close', () => {
    if (closing || !connected) return;
    connected = false;
    log.warn({ engine: `${endpoint.host}:${endpoint.port}` }, 'lost the connection to the SIP engine; reconnecting');
  });

  const opts: InboundConnectOptions = {
    host: endpoint.host,
    port: endpoint.port,
    secret: endpoint.secret,
    enablePing: true,
    reconnect: { retryMaxDelay: retryMaxDelayMs },
  };
  void srf.connect(opts);

  return {
    ready,
    close: async () => {
      if (closing) return;
      closing = true;
      if (!connected) {
        // No socket to end; srf's disconnect would throw. A pending retry timer is left to the
        // process exit, as srf offers no public way to cancel it.
        return;
      }
      const closed = new Promise<void>((resolve) => {
        events.once('close', () => resolve());
        setTimeout(resolve, 1000).unref();
      });
      try {
        srf.disconnect();
      } catch (err) {
        log.debug({ err }, 'srf.disconnect failed');
        return;
      }
      await closed;
    },
  };
}
