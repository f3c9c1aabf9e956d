import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DeliveryConnections, EndpointLanes, type BatchOutcome, type DeliveryBatch } from './delivery-batch.js';
import type { FromWorker, ToWorker } from './delivery-worker.js';
import { packBatch, unpackOutcome } from './delivery-wire.js';

/** Where the dispatcher's HTTP attempts run: worker threads ({@link DeliveryPool}) or this thread ({@link InlineDelivery}). */
export interface DeliveryRunner {
  run(batch: DeliveryBatch): Promise<BatchOutcome>;
  /** The endpoint's address no longer passes the check (or it is gone): close its connection. */
  drop(endpoint: string): void;
  /** Shutdown: every batch stops after its current attempt. */
  cancel(): void;
  /** Ends the threads; batches still running resolve with what they reported (nothing). */
  close(): Promise<void>;
  /** Connections opened so far (tests). */
  connectionsOpened(): Promise<number>;
}

/** Attempts on the calling thread: for a single-core host, and the pool's reference behaviour. */
export class InlineDelivery implements DeliveryRunner {
  private readonly connections = new DeliveryConnections();
  private cancelled = false;
  private readonly lanes = new EndpointLanes(this.connections, () => this.cancelled);
  run(batch: DeliveryBatch): Promise<BatchOutcome> {
    return this.lanes.run(batch);
  }
  drop(endpoint: string): void {
    this.connections.drop(endpoint);
    this.lanes.forget(endpoint);
  }
  cancel(): void {
    this.cancelled = true;
  }
  close(): Promise<void> {
    this.cancelled = true;
    this.connections.closeAll();
    return Promise.resolve();
  }
  connectionsOpened(): Promise<number> {
    return Promise.resolve(this.connections.opened);
  }
}

/**
 * Threads for a host: one per core, at most 4. One per core beyond the main thread's looked
 * natural, but on 2 cores two threads delivered 10–45% more (bench:events at 1,500 events/s × 10
 * endpoints): a thread waits on its sockets part of the time.
 */
export const defaultDeliveryThreads = (): number => Math.max(1, Math.min(4, availableParallelism()));

function tsxApiUrl(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  }
}

interface Thread {
  worker: Worker;
  pending: Map<number, (o: FromWorker) => void>;
}

/**
 * Worker threads that make the HTTP attempts, so 20,000 POSTs a second (2,000 events × 10
 * endpoints) do not compete with the main thread's SIP, API and WebSocket work. Each endpoint
 * sticks to one thread (its kept-alive connection lives there). The worker module is the .ts file
 * under tsx/vitest (started with `--import tsx`) and the compiled .js in dist/.
 */
export class DeliveryPool implements DeliveryRunner {
  private readonly threads: Array<Thread | undefined>;
  private readonly home = new Map<string, number>();
  private nextId = 1;
  private nextThread = 0;
  private cancelled = false;
  private closed = false;

  /** `onError`: a thread died (its batches count as not attempted, so they are made again). */
  constructor(size = defaultDeliveryThreads(), private readonly onError: (err: unknown) => void = () => undefined) {
    this.threads = Array.from({ length: Math.max(1, size) }, () => undefined);
  }

  run(batch: DeliveryBatch): Promise<BatchOutcome> {
    if (this.closed) return Promise.resolve({ attempts: [], expired: false });
    const thread = this.threadOf(batch.endpoint);
    const id = this.nextId++;
    return new Promise((resolve) => {
      thread.pending.set(id, (m) => resolve(m.type === 'done' ? unpackOutcome(m.outcome) : { attempts: [], expired: false }));
      this.post(thread, { type: 'run', id, batch: packBatch(batch) });
    });
  }

  /** Starts the threads now, so the first events do not wait for a thread to boot (~0.3 s under tsx). */
  warm(): void {
    for (let i = 0; i < this.threads.length; i++) this.threads[i] ??= this.spawn(i);
  }

  drop(endpoint: string): void {
    const i = this.home.get(endpoint);
    const thread = i === undefined ? undefined : this.threads[i];
    if (thread) this.post(thread, { type: 'drop', endpoint });
  }

  cancel(): void {
    this.cancelled = true;
    for (const t of this.threads) if (t) this.post(t, { type: 'cancel' });
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads.filter((t): t is Thread => t !== undefined);
    this.threads.fill(undefined);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    for (const t of threads) for (const settle of t.pending.values()) settle({ type: 'failed', id: 0, error: 'closed' });
  }

  async connectionsOpened(): Promise<number> {
    let total = 0;
    for (const t of this.threads) {
      if (!t) continue;
      const id = this.nextId++;
      total += await new Promise<number>((resolve) => {
        t.pending.set(id, (m) => resolve(m.type === 'stats' ? m.opened : 0));
        this.post(t, { type: 'stats', id });
      });
    }
    return total;
  }

  private post(thread: Thread, m: ToWorker): void {
    thread.worker.postMessage(m);
  }

  private threadOf(endpoint: string): Thread {
    let i = this.home.get(endpoint);
    if (i === undefined) {
      i = this.nextThread++ % this.threads.length;
      this.home.set(endpoint, i);
    }
    return (this.threads[i] ??= this.spawn(i));
  }

  private spawn(i: number): Thread {
    const ts = import.meta.url.endsWith('.ts');
    const file = new URL(`./delivery-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
    // Under tsx (npm start) and vitest this module is TypeScript: the worker imports it through
    // tsx's API (`--import tsx` in a worker's execArgv does not reach its entry module on Node 20).
    const worker = ts
      ? new Worker(`import(${JSON.stringify(tsxApiUrl())}).then((m) => m.tsImport(${JSON.stringify(file.href)}, ${JSON.stringify(file.href)}))`, { eval: true })
      : new Worker(file);
    worker.unref();
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (m: FromWorker) => {
      const settle = thread.pending.get(m.id);
      thread.pending.delete(m.id);
      settle?.(m);
    });
    // A thread that died fails what it was running (nothing attempted is recorded, so it is all
    // attempted again); the next batch for its endpoints starts a fresh thread.
    const fail = (err?: unknown) => {
      if (err !== undefined && !this.closed) this.onError(err);
      if (this.threads[i] === thread) this.threads[i] = undefined;
      for (const settle of thread.pending.values()) settle({ type: 'failed', id: 0, error: 'delivery thread exited' });
      thread.pending.clear();
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', () => fail());
    if (this.cancelled) this.post(thread, { type: 'cancel' });
    return thread;
  }
}
