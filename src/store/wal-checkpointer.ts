import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL size (bytes) above which the thread checkpoints: about SQLite's own default (1,000 pages). */
const CHECKPOINT_WAL_BYTES = 4 * 1024 * 1024;
/**
 * The main connection's own auto-checkpoint, in pages, kept only as a backstop (64 MB with 4 KB
 * pages): under a steady stream of commits the thread's checkpoints rarely catch the WAL's very end,
 * and only a writer that finds it all copied can start the WAL over. The main connection then
 * checkpoints what little is left (the thread copied the rest) and the WAL restarts.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 16_384;

/**
 * The checkpoint thread's code (plain JavaScript, so it runs the same under tsx, vitest and from
 * dist/): its own connection to the file, which copies the WAL into the database file whenever the
 * WAL outgrows {@link CHECKPOINT_WAL_BYTES}. PASSIVE: it never waits for, nor blocks, the writer.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const walSize = () => { try { return statSync(workerData.path + '-wal').size; } catch { return 0; } };
const timer = setInterval(() => {
  if (walSize() < workerData.thresholdBytes) return;
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (err) { parentPort.postMessage({ error: String(err) }); }
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * Moves SQLite's WAL checkpoints off the event loop. With `wal_autocheckpoint` at its default, the
 * commit that crosses 1,000 WAL pages copies them into the database file and fsyncs it, on the
 * main thread (better-sqlite3 is synchronous): at 20,000 webhook deliveries a second that was a
 * checkpoint every few hundred milliseconds, each stalling SIP, API and WebSocket work for tens of
 * milliseconds, and the commits' average cost went from ~0.5 to ~2.5 ms (npm run bench:events).
 * Here a thread with its own connection checkpoints whenever the WAL outgrows 4 MB, and the main
 * connection's auto-checkpoint stays only as a backstop ({@link BACKSTOP_AUTOCHECKPOINT_PAGES}).
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | undefined;
  private exited = false;

  constructor(path: string, opts: { intervalMs?: number; thresholdBytes?: number; onError?: (message: string) => void } = {}) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, module, intervalMs: opts.intervalMs ?? 200, thresholdBytes: opts.thresholdBytes ?? CHECKPOINT_WAL_BYTES } });
    // Never what keeps the process alive.
    this.worker.unref();
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) opts.onError?.(m.error);
    });
    // A thread that dies leaves the backstop: the main connection checkpoints at 64 MB.
    this.worker.on('error', (err) => opts.onError?.(String(err)));
    this.worker.once('exit', () => (this.exited = true));
  }

  /** Closes the thread's connection and ends the thread (at most 2 s: a checkpoint in progress finishes first). */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      const timer = setTimeout(() => void this.worker.terminate().then(() => resolve()), 2000);
      this.worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.worker.postMessage('close');
    });
    return this.closed;
  }
}
