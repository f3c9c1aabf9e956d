import type { Clock } from '../shared/clock.js';
import type {
  IdempotencyClaim,
  IdempotencyStore,
  RequestLogEntry,
  RequestLogSink,
  StoredResponse,
} from './ports.js';

interface IdemRecord {
  requestHash: string;
  createdAt: number;
  response?: StoredResponse;
}

/**
 * In-memory {@link IdempotencyStore} for tests and store-less runs. Records expire after `ttlMs`
 * (24 h by default, the usual replay window) measured on the injected clock.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdemRecord>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 24 * 60 * 60 * 1000,
  ) {}

  async claim(scope: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    const id = `${scope}\u0000${key}`;
    const now = this.clock.now();
    const existing = this.records.get(id);
    if (existing && now - existing.createdAt < this.ttlMs) {
      if (existing.requestHash !== requestHash) return { state: 'mismatch' };
      if (!existing.response) return { state: 'in_progress' };
      return { state: 'completed', response: existing.response };
    }
    this.records.set(id, { requestHash, createdAt: now });
    return { state: 'claimed' };
  }

  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    const record = this.records.get(`${scope}\u0000${key}`);
    if (record) record.response = response;
  }

  async release(scope: string, key: string): Promise<void> {
    this.records.delete(`${scope}\u0000${key}`);
  }
}

/** In-memory {@link RequestLogSink}: keeps the newest `max` entries, for tests and inspection. */
export class MemoryRequestLogSink implements RequestLogSink {
  readonly entries: RequestLogEntry[] = [];

  constructor(private readonly max = 1000) {}

  record(entry: RequestLogEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.shift();
  }
}
