/**
 * OPTIONS qualify of registered bindings (product.md §2 item 3, NAT keepalive): every interval
 * each live binding is pinged over the flow it registered on; reachability and round-trip time
 * are kept in memory for the API, and a binding that fails `maxFailures` rounds in a row is
 * dropped, as Asterisk's `qualify_frequency` and Kamailio's `nathelper` keepalives do.
 */
import type { Clock, TimerHandle } from '../../shared/clock.js';
import type { Binding } from './location.js';

/** The last qualify result of one binding, as `SipStatusPort.qualifyStatus` returns it. */
export interface QualifyResult {
  reachable: boolean;
  rttMs?: number;
  checkedAt: string;
}

/** Sends one OPTIONS to a binding's flow; resolves true if the UA answered at all. */
export type Ping = (binding: Binding) => Promise<boolean>;

export interface QualifierOptions {
  clock: Clock;
  ping: Ping;
  /** The bindings to check, read at the start of each round. */
  bindings: () => Iterable<Binding>;
  /** Called once for a binding that failed `maxFailures` rounds in a row. */
  onUnreachable: (binding: Binding) => void;
  /** Round interval in ms (default 30 000); 0 disables the timer (rounds on demand only). */
  intervalMs?: number;
  /** Consecutive failed rounds before the binding is dropped (default 3). */
  maxFailures?: number;
  /** Most pings in flight at once (default 100), so 10 000 bindings do not burst the engine. */
  concurrency?: number;
  /** A ping without an answer after this many ms counts as failed (default 5 000). */
  timeoutMs?: number;
}

interface State extends QualifyResult {
  failures: number;
}

export class Qualifier {
  private readonly states = new Map<string, State>();
  private timer: TimerHandle | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly maxFailures: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;

  constructor(private readonly o: QualifierOptions) {
    this.intervalMs = o.intervalMs ?? 30_000;
    this.maxFailures = o.maxFailures ?? 3;
    this.concurrency = Math.max(1, o.concurrency ?? 100);
    this.timeoutMs = o.timeoutMs ?? 5_000;
  }

  start(): void {
    if (this.intervalMs > 0 && !this.stopped) this.timer = this.o.clock.setTimeout(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
  }

  /** The last result for a binding id, if it was checked. */
  status(registrationId: string): QualifyResult | undefined {
    const s = this.states.get(registrationId);
    return s && { reachable: s.reachable, ...(s.rttMs !== undefined ? { rttMs: s.rttMs } : {}), checkedAt: s.checkedAt };
  }

  /** Forget a binding that went away (unregistered, expired). */
  forget(registrationId: string): void {
    this.states.delete(registrationId);
  }

  /** One round over every binding, at most `concurrency` pings at a time. */
  runOnce(): Promise<void> {
    this.round ??= this.runRound().finally(() => (this.round = undefined));
    return this.round;
  }

  private tick(): void {
    void this.runOnce().finally(() => this.start());
  }

  private async runRound(): Promise<void> {
    const queue = [...this.o.bindings()];
    const worker = async (): Promise<void> => {
      for (let b = queue.shift(); b !== undefined && !this.stopped; b = queue.shift()) await this.check(b);
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, queue.length) }, worker));
  }

  private async check(b: Binding): Promise<void> {
    const started = this.o.clock.now();
    const ok = await this.withTimeout(this.o.ping(b).catch(() => false));
    const prev = this.states.get(b.id);
    const failures = ok ? 0 : (prev?.failures ?? 0) + 1;
    const state: State = { reachable: ok, checkedAt: new Date(this.o.clock.now()).toISOString(), failures };
    if (ok) state.rttMs = this.o.clock.now() - started;
    this.states.set(b.id, state);
    if (failures >= this.maxFailures) {
      this.states.delete(b.id);
      this.o.onUnreachable(b);
    }
  }

  private withTimeout(p: Promise<boolean>): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.o.clock.setTimeout(() => resolve(false), this.timeoutMs);
      void p.then((v) => {
        this.o.clock.clearTimeout(t);
        resolve(v);
      });
    });
  }
}
