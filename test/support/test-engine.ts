/**
 * An in-process {@link EngineServer} on 127.0.0.1 (UDP + TCP, ephemeral ports) for wire tests and
 * fuzzing, instrumented so tests can assert what a black box cannot show: every message the engine
 * hands to its transports (and where to), every log line by level, and a direct entry into the
 * inbound path the transports feed.
 */
import type { Logger } from '../../src/engine/core/ports.js';
import { EngineServer, type EngineConfig } from '../../src/engine/server.js';
import type { FramingErrorEvent } from '../../src/engine/transport/transport-layer.js';
import { parseContactSpecs } from '../../src/engine/transport/contact-spec.js';
import type { Destination, Flow, InboundData } from '../../src/engine/transport/types.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** A Logger that counts lines per level and keeps the warn/error ones for assertion messages. */
export interface CountingLogger extends Logger {
  counts: Record<Level, number>;
  /** warn and error lines, most recent last (bounded). */
  lines: Array<{ level: Level; msg: string; obj: object }>;
}

export function countingLogger(echo = process.env.ENGINE_TEST_LOG === '1'): CountingLogger {
  const counts: Record<Level, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  const lines: CountingLogger['lines'] = [];
  const at = (level: Level) => (obj: object, msg: string): void => {
    counts[level]++;
    if (level === 'warn' || level === 'error') {
      if (lines.length < 1000) lines.push({ level, msg, obj });
      if (echo) console.error(`[engine ${level}] ${msg}`, obj);
    }
  };
  return { counts, lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface SentRecord {
  data: Buffer;
  dest: Destination;
  /** Where it actually went (the flow the transport used), once the send completed. */
  flow?: Flow;
  /** Why the transport refused or failed it. */
  error?: string;
}

export interface TestEngine {
  engine: EngineServer;
  log: CountingLogger;
  udpPort: number;
  tcpPort: number;
  adminPort: number;
  secret: string;
  /** Every message the engine asked its transports to send, in order. */
  sent: SentRecord[];
  /** Feed bytes into the engine exactly where the transport layer delivers a received message. */
  inject(m: InboundData): void;
  /** As {@link inject}, for bytes a stream transport could not frame. */
  injectFramingError(e: FramingErrorEvent): void;
  /** A UDP flow from a peer on 127.0.0.1 to this engine's UDP listener. */
  udpFlow(remotePort: number): Flow;
  stop(): Promise<void>;
}

export interface TestEngineOptions {
  limits?: EngineConfig['limits'];
  core?: EngineConfig['core'];
  timers?: EngineConfig['timers'];
  /**
   * 'record' keeps sends off the network (they are recorded and reported as sent): fuzzing feeds
   * thousands of messages from made-up flows and must not spray datagrams. Default 'network'.
   */
  sendMode?: 'network' | 'record';
  /** Keep only the last N sent records (fuzzing); default unbounded. */
  keepSent?: number;
  /** Called for every send, as it is asked for. */
  onSend?: (r: SentRecord) => void;
}

export async function startTestEngine(opts: TestEngineOptions = {}): Promise<TestEngine> {
  const log = countingLogger();
  const secret = 'torture';
  const cfg: EngineConfig = {
    listen: parseContactSpecs('sip:127.0.0.1:0;transport=udp,tcp'),
    admin: { host: '127.0.0.1', port: 0, secret },
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.core ? { core: opts.core } : {}),
    ...(opts.timers ? { timers: opts.timers } : {}),
  };
  const engine = new EngineServer(cfg, log);

  // The pipeline subscribes to the transport layer's events in start(): keep its handlers, so a
  // test can call the very function a datagram or a framed stream message reaches.
  const handlers: { message?: (m: InboundData) => void; framing?: (e: FramingErrorEvent) => void } = {};
  const transports = engine.transports;
  const on = transports.on.bind(transports);
  transports.on = ((event: string, listener: (arg: never) => void) => {
    if (event === 'message') handlers.message = listener as (m: InboundData) => void;
    if (event === 'framing-error') handlers.framing = listener as (e: FramingErrorEvent) => void;
    return on(event as 'message', listener as (m: InboundData) => void);
  }) as typeof transports.on;

  // Every send of the transaction layer, the core and the pipeline goes through this one method.
  const sent: SentRecord[] = [];
  const realSend = transports.send.bind(transports);
  transports.send = (data: Buffer, dest: Destination): Promise<Flow> => {
    const record: SentRecord = { data, dest: { ...dest } };
    sent.push(record);
    opts.onSend?.(record);
    if (opts.keepSent !== undefined && sent.length > opts.keepSent) sent.splice(0, sent.length - opts.keepSent);
    if (opts.sendMode === 'record') {
      record.flow = { protocol: dest.protocol, local: { address: '127.0.0.1', port: 0 }, remote: { address: dest.address, port: dest.port } };
      return Promise.resolve(record.flow);
    }
    return realSend(data, dest).then(
      (flow) => (record.flow = flow),
      (err: unknown) => {
        record.error = (err as Error).message;
        throw err;
      },
    );
  };

  const addrs = await engine.start();
  const udp = addrs.sip.find((l) => l.spec.protocol === 'udp');
  const tcp = addrs.sip.find((l) => l.spec.protocol === 'tcp');
  if (!udp || !tcp || !handlers.message || !handlers.framing) throw new Error('test engine did not start udp and tcp');
  const onMessage = handlers.message;
  const onFraming = handlers.framing;
  return {
    engine,
    log,
    udpPort: udp.local.port,
    tcpPort: tcp.local.port,
    adminPort: addrs.adminPort,
    secret,
    sent,
    inject: (m) => onMessage(m),
    injectFramingError: (e) => onFraming(e),
    udpFlow: (remotePort) => ({ protocol: 'udp', local: udp.local, remote: { address: '127.0.0.1', port: remotePort } }),
    stop: () => engine.stop(),
  };
}
