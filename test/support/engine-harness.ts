/**
 * An {@link EngineServer} on 127.0.0.1 (UDP + TCP on ephemeral ports) with real, unmodified
 * drachtio-srf apps connected to its admin port, and {@link RawSipPeer}s talking SIP to it, for
 * tests of the engine core from the outside: what a SIP peer and an app would notice. Everything a
 * harness opens is closed by {@link EngineHarness.stop}.
 */
import { createRequire } from 'node:module';
import { afterEach, expect } from 'vitest';
import { systemClock, type Clock } from '../../src/shared/clock.js';
import type { CoreConfig, Logger } from '../../src/engine/core/ports.js';
import type { RequestHandlerConfig } from '../../src/engine/routing/request-routing.js';
import { EngineServer } from '../../src/engine/server.js';
import type { TimerConfig } from '../../src/engine/transaction/types.js';
import { parseContactSpecs } from '../../src/engine/transport/contact-spec.js';
import { FakeClock } from './fake-clock.js';
import { RawSipPeer, sleep, until } from './raw-sip-peer.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** drachtio-srf objects are used loosely: its bundled typings cover a fraction of the API. */
export type Loose = any;
const require = createRequire(import.meta.url);
const Srf = require('drachtio-srf') as Loose;

export interface HarnessOptions {
  timers?: Partial<TimerConfig>;
  core?: Partial<CoreConfig>;
  /** Run every engine timer on a {@link FakeClock} (sockets stay real). */
  fakeClock?: boolean;
  /** drachtio `--http-handler` routing (drachtio-protocol §2.2, §6). */
  requestHandler?: RequestHandlerConfig;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  obj: object;
}

/** Live engine state, flattened for leak assertions. */
export interface EngineCounts {
  inbound: number;
  outbound: number;
  dialogs: number;
  server: number;
  client: number;
}

export const idle: EngineCounts = { inbound: 0, outbound: 0, dialogs: 0, server: 0, client: 0 };

export class EngineHarness {
  readonly apps: Loose[] = [];
  readonly peers: RawSipPeer[] = [];
  readonly logs: LogLine[] = [];
  udpPort = 0;
  tcpPort = 0;
  adminPort = 0;
  readonly engine: EngineServer;

  private constructor(
    readonly clock: Clock,
    readonly fake: FakeClock | undefined,
    opts: HarnessOptions,
  ) {
    const at = (level: LogLine['level']) => (obj: object, msg: string): void => {
      if (level !== 'debug' && this.logs.length < 2000) this.logs.push({ level, msg, obj });
      if (process.env.ENGINE_TEST_LOG === '1' && level !== 'debug') console.error(`[engine ${level}] ${msg}`, obj);
    };
    const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    this.engine = new EngineServer(
      {
        listen: parseContactSpecs('sip:127.0.0.1:0;transport=udp,tcp'),
        admin: { host: '127.0.0.1', port: 0, secret: 's' },
        ...(opts.timers ? { timers: opts.timers } : {}),
        ...(opts.core ? { core: opts.core } : {}),
        ...(opts.requestHandler ? { requestHandler: opts.requestHandler } : {}),
      },
      log,
      clock,
    );
  }

  static async start(opts: HarnessOptions = {}): Promise<EngineHarness> {
    const fake = opts.fakeClock ? new FakeClock(1_000_000) : undefined;
    const h = new EngineHarness(fake ?? systemClock, fake, opts);
    const addrs = await h.engine.start();
    h.udpPort = addrs.sip.find((l) => l.spec.protocol === 'udp')?.local.port ?? 0;
    h.tcpPort = addrs.sip.find((l) => l.spec.protocol === 'tcp')?.local.port ?? 0;
    h.adminPort = addrs.adminPort;
    return h;
  }

  /**
   * Connect a drachtio-srf app. `setup` registers its handlers before it connects (srf sends
   * `route` for them after authenticating); resolves once the engine routes every verb in `verbs`
   * (`invite`, `cdr:start`…) to it, so that a request sent next cannot race the routing.
   */
  async app(setup: (srf: Loose) => void = () => undefined, verbs: string[] = []): Promise<Loose> {
    const before = new Map(verbs.map((v) => [v, this.engine.wire.clientsFor(v).length]));
    const srf = new Srf();
    srf.on('error', () => undefined);
    setup(srf);
    this.apps.push(srf);
    await new Promise<void>((resolve, reject) => {
      srf.once('connect', (err: Error | null) => (err ? reject(err) : resolve()));
      srf.connect({ host: '127.0.0.1', port: this.adminPort, secret: 's', reconnect: { maxAttempts: 1 } });
    });
    await until(() => verbs.every((v) => this.engine.wire.clientsFor(v).length > (before.get(v) ?? 0)), 2000, `routes ${verbs.join(',')}`);
    return srf;
  }

  /** Close an app's connection to the engine and wait until the engine has noticed. */
  async disconnect(srf: Loose): Promise<void> {
    const count = this.engine.wire.clients().length;
    srf.disconnect();
    await until(() => this.engine.wire.clients().length < count, 2000, 'the engine to drop the app connection');
  }

  async udpPeer(): Promise<RawSipPeer> {
    const p = await RawSipPeer.udp(this.udpPort);
    this.peers.push(p);
    return p;
  }

  async tcpPeer(): Promise<RawSipPeer> {
    const p = await RawSipPeer.tcp(this.tcpPort);
    this.peers.push(p);
    return p;
  }

  /** A TCP peer listening on its own port (a phone's Contact); see {@link RawSipPeer.tcpListen}. */
  async tcpListeningPeer(): Promise<RawSipPeer> {
    const p = await RawSipPeer.tcpListen(this.tcpPort);
    this.peers.push(p);
    return p;
  }

  counts(): EngineCounts {
    const s = this.engine.size();
    return { inbound: s.core?.inbound ?? 0, outbound: s.core?.outbound ?? 0, dialogs: s.core?.dialogs ?? 0, server: s.transactions.server, client: s.transactions.client };
  }

  /**
   * Move the fake clock forward in steps, letting real sockets deliver between steps (a timer that
   * sends something gets its answer before the next step). No-op without a fake clock.
   */
  async advance(ms: number, step = 1000): Promise<void> {
    if (!this.fake) throw new Error('advance() needs a harness started with fakeClock');
    for (let left = ms; left > 0; left -= step) {
      this.fake.advance(Math.min(step, left));
      await sleep(2);
    }
    await sleep(20);
  }

  /**
   * Leak check: once every timer has had its chance to run, the engine holds no transaction,
   * pending request or dialog. With a fake clock, time is advanced well past the longest engine
   * timer (64 s pending-request timeout + 64·T1); with the real clock, waits up to `realMs`.
   */
  async expectIdle(realMs = 6000): Promise<EngineCounts> {
    if (this.fake) await this.advance(200_000, 4000);
    else {
      try {
        await until(() => sameCounts(this.counts(), idle), realMs, 'engine state to drain');
      } catch {
        // fall through: the caller's assertion shows the counts
      }
    }
    return this.counts();
  }

  async stop(): Promise<void> {
    for (const srf of this.apps.splice(0)) {
      try {
        srf.disconnect();
      } catch {
        // already disconnected
      }
    }
    for (const p of this.peers.splice(0)) p.close();
    await this.engine.stop();
  }
}

function sameCounts(a: EngineCounts, b: EngineCounts): boolean {
  return a.inbound === b.inbound && a.outbound === b.outbound && a.dialogs === b.dialogs && a.server === b.server && a.client === b.client;
}

/** A promise with its resolve, for events an app reports. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Await a promise with a deadline, naming what was awaited when it does not settle. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One harness per test: the returned function starts it (fake clock unless told otherwise), and
 * after each test it is stopped. An engine error log fails the test even when the peer saw
 * nothing wrong: it means a handler threw somewhere.
 */
export function harnessPerTest(defaults: HarnessOptions = { fakeClock: true }): (opts?: HarnessOptions) => Promise<EngineHarness> {
  let current: EngineHarness | undefined;
  afterEach(async () => {
    const errors = current?.logs.filter((l) => l.level === 'error') ?? [];
    await current?.stop();
    current = undefined;
    expect(errors).toEqual([]);
  });
  return async (opts = defaults) => {
    current = await EngineHarness.start(opts);
    return current;
  };
}
