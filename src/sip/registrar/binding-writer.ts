/**
 * Group commit of binding changes: every REGISTER answered in the same event-loop turn (or while
 * the previous commit runs) shares one transaction, so under load the store sees one fsync per
 * batch instead of one per registration, and a 200 still goes out only once its binding is durable
 * (write-through, Kamailio usrloc `db_mode=1`, reliability anchors "registrations across restart").
 */
import type { EventEnvelope } from '../../events/envelope.js';
import type { RegistrationChange } from '../../store/index.js';

/**
 * Writes one batch durably (one transaction) with the outbox events the changes caused
 * (registration.created/expired), so an event exists exactly when its change does; rejects if any
 * change fails.
 */
export type ApplyChanges = (changes: readonly RegistrationChange[], events: readonly EventEnvelope[]) => Promise<void>;

interface Unit {
  changes: readonly RegistrationChange[];
  events: readonly EventEnvelope[];
  resolve(): void;
  reject(err: unknown): void;
}

/** Queues units of changes and commits them in batches, one batch at a time, in order. */
export class BindingWriter {
  private queue: Unit[] = [];
  private scheduled = false;
  private running: Promise<void> | undefined;

  constructor(private readonly apply: ApplyChanges) {}

  /** Queue the changes of one request; resolves once they are committed. */
  write(changes: readonly RegistrationChange[], events: readonly EventEnvelope[] = []): Promise<void> {
    if (changes.length === 0 && events.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ changes, events, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every unit queued before this call is committed (or failed). */
  barrier(): Promise<void> {
    if (!this.running && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ changes: [], events: [], resolve, reject: () => resolve() });
      this.schedule();
    });
  }

  /** Resolves when everything queued so far is written (or failed): call before closing the store. */
  async drain(): Promise<void> {
    while (this.running || this.queue.length > 0 || this.scheduled) {
      if (this.running) await this.running;
      else await new Promise((r) => setImmediate(r));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // The end of this turn: every request parsed from the same socket read joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.flush().finally(() => {
        this.running = undefined;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const units = this.queue;
    this.queue = [];
    try {
      await this.apply(units.flatMap((u) => u.changes), units.flatMap((u) => u.events));
      for (const u of units) u.resolve();
    } catch {
      // One bad unit (say its extension was just deleted) must not fail the others: retry each
      // alone, so only the culprit's request gets the error.
      for (const u of units) {
        try {
          await this.apply(u.changes, u.events);
          u.resolve();
        } catch (err) {
          u.reject(err);
        }
      }
    }
  }
}
