import { systemClock, type Clock } from '../shared/clock.js';
import { EngineCore } from './core/engine-core.js';
import { LocalAddresses } from './core/local-address.js';
import { defaultCoreConfig, type CoreConfig, type Logger } from './core/ports.js';
import { InboundPipeline } from './inbound-pipeline.js';
import type { Via } from './message/types.js';
import { defaultValidationPolicy } from './message/validate.js';
import { createEngineProxy, type StatefulProxy } from './proxy/index.js';
import { HandlerRouting, type RequestHandlerConfig } from './routing/request-routing.js';
import { TransactionLayer } from './transaction/transaction-layer.js';
import { defaultTimers, type TimerConfig } from './transaction/types.js';
import { responseDestination } from './transport/response-routing.js';
import { TransportLayer } from './transport/transport-layer.js';
import type { Destination, Flow, ListeningTransport, ListenSpec, TransportLimits } from './transport/types.js';
import { WireServer } from './wire/wire-server.js';

export interface EngineConfig {
  /** SIP transports, from `--contact` URIs. */
  listen: ListenSpec[];
  /** The drachtio admin socket apps connect to. */
  admin: { host: string; port: number; tlsPort?: number; tls?: { key: string | Buffer; cert: string | Buffer }; secret: string };
  timers?: Partial<TimerConfig>;
  core?: Partial<CoreConfig>;
  limits?: Partial<TransportLimits>;
  /**
   * Send UDP responses to the packet's source address and port even without `rport` (what
   * Asterisk calls force_rport): phones behind NAT get their answers. Default true.
   */
  symmetricResponses?: boolean;
  /** Version reported to apps (must be vX.Y.Z ≥ v0.8.2 for srf to ping). */
  version?: string;
  /** Extra names that mean "this host" for the loop check (drachtio `--dns-name`). */
  dnsNames?: string[];
  /**
   * drachtio `--http-handler` / `--http-method` (drachtio-protocol §2.2, §6): new out-of-dialog
   * requests are routed by this handler instead of by the apps' `route` verbs.
   */
  requestHandler?: RequestHandlerConfig;
}

export interface EngineAddresses {
  sip: ListeningTransport[];
  adminPort: number;
  adminTlsPort?: number;
}

/**
 * The embedded SIP engine: transports → parser → transactions → drachtio core, and the admin
 * socket drachtio-srf apps connect to. Knows nothing of the PBX.
 */
export class EngineServer {
  readonly transports: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly wire: WireServer;
  private core?: EngineCore;
  private proxy?: StatefulProxy;
  private local?: LocalAddresses;

  constructor(
    private readonly cfg: EngineConfig,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {
    this.transports = new TransportLayer({ listen: cfg.listen, clock, log, ...(cfg.limits ? { limits: cfg.limits } : {}) });
    const respond = this.responseRouting();
    this.transactions = new TransactionLayer({ sender: this.transports, clock, log, responseDestination: respond, ...(cfg.timers ? { timers: cfg.timers } : {}) });
    this.wire = new WireServer({
      host: cfg.admin.host,
      port: cfg.admin.port,
      ...(cfg.admin.tlsPort !== undefined ? { tlsPort: cfg.admin.tlsPort } : {}),
      ...(cfg.admin.tls ? { tls: cfg.admin.tls } : {}),
      secret: cfg.admin.secret,
      hostports: () => ({ external: this.local?.hostports('external') ?? '', local: this.local?.hostports('local') ?? '' }),
      ...(cfg.version ? { version: cfg.version } : {}),
      log,
    });
  }

  async start(): Promise<EngineAddresses> {
    const sip = await this.transports.start();
    this.local = new LocalAddresses(sip, this.cfg.dnsNames ?? []);
    const timers = { ...defaultTimers, ...this.cfg.timers };
    const respond = this.responseRouting();
    const core = new EngineCore({
      clock: this.clock,
      timers,
      log: this.log,
      transactions: this.transactions,
      sender: this.transports,
      local: this.local,
      router: { pick: (verb) => this.wire.pickClient(verb) },
      ...(this.cfg.requestHandler ? { requestRouting: this.handlerRouting(this.cfg.requestHandler) } : {}),
      config: { ...defaultCoreConfig, ...this.cfg.core },
      responseDestination: respond,
    });
    this.core = core;
    const proxy = (this.proxy = createEngineProxy({ core, transactions: this.transactions, sender: this.transports, local: this.local, clock: this.clock, log: this.log, timers, responseDestination: respond }));
    const pipeline = new InboundPipeline({
      transports: this.transports,
      transactions: this.transactions,
      core,
      policy: defaultValidationPolicy,
      maxMessageBytes: this.cfg.limits?.maxMessageBytes ?? 65535,
      log: this.log,
      responseDestination: respond,
      proxy,
    });
    this.transports.on('message', (m) => pipeline.onData(m));
    this.transports.on('framing-error', (e) => pipeline.onFramingError(e));
    this.wire.setHandler({
      onSip: (client, cmd) => core.onAppSip(client, cmd),
      onProxy: (client, cmd) => proxy.onProxy(client, cmd),
      onClientClosed: (client) => core.onAppClosed(client),
    });
    const admin = await this.wire.start();
    return { sip, adminPort: admin.port, ...(admin.tlsPort !== undefined ? { adminTlsPort: admin.tlsPort } : {}) };
  }

  async stop(): Promise<void> {
    await this.wire.stop();
    await this.transports.stop();
  }

  /** Live state counts (leak checks). */
  size(): {
    core: ReturnType<EngineCore['size']> | undefined;
    proxy: ReturnType<StatefulProxy['size']> | undefined;
    transactions: ReturnType<TransactionLayer['size']>;
  } {
    return { core: this.core?.size(), proxy: this.proxy?.size(), transactions: this.transactions.size() };
  }

  /** The request handler's routing; the proxy it needs is created after the core, hence the lookup at use. */
  private handlerRouting(cfg: RequestHandlerConfig): HandlerRouting {
    return new HandlerRouting(cfg, {
      connectOutbound: (uri) => this.wire.connectOutbound(uri),
      pickClient: (verb, tag) => this.wire.pickClient(verb, tag),
      proxy: (txn, opts) => this.proxy?.proxyWithoutApp(txn, opts),
      log: this.log,
    });
  }

  private responseRouting(): (via: Via, flow: Flow) => Destination {
    if (this.cfg.symmetricResponses === false) return responseDestination;
    return (via, flow) => {
      const dest = responseDestination(via, flow);
      return flow.protocol === 'udp' ? { protocol: 'udp', address: flow.remote.address, port: flow.remote.port } : dest;
    };
  }
}
