/**
 * Ports the API foundation needs from storage, kept here as small interfaces so that the HTTP layer
 * is testable now with in-memory fakes and the SQLite-backed implementations (src/store/) can be
 * plugged in by main.ts without the API depending on them.
 */

/** A response captured for idempotent replay: exact status, content type and body bytes. */
export interface StoredResponse {
  status: number;
  contentType: string | null;
  body: string;
}

/** Outcome of trying to start work under an idempotency key. */
export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'in_progress' }
  | { state: 'mismatch' }
  | { state: 'completed'; response: StoredResponse };

/**
 * Storage for `Idempotency-Key` records, scoped by tenant + key. `claim` must be atomic: exactly one
 * of several concurrent callers with the same scope gets `claimed` (a DB unique constraint does this).
 */
export interface IdempotencyStore {
  claim(scope: string, key: string, requestHash: string): Promise<IdempotencyClaim>;
  /** Records the first response so repeats replay it. */
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
  /** Forgets a claim whose request failed (5xx or thrown), so the client may retry with the same key. */
  release(scope: string, key: string): Promise<void>;
}

/**
 * One line of the API request log (`/api/v1/logs`): never holds secrets — the path has no query
 * string (where `?api_key=` and tokens travel), and no header or body is recorded.
 */
export interface RequestLogEntry {
  request_id: string;
  time: string;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  tenant_id?: string;
  principal_id?: string;
  ip?: string;
  user_agent?: string;
  /** The matched route's template (`/api/v1/extensions/:id`); absent when no route matched. */
  route?: string;
  /** The error envelope's `code` of a failed request. */
  error_code?: string;
}

/**
 * Where request log entries go; must not throw into the request (failures are the sink's to log),
 * and should not make it wait (the SQLite sink only buffers). `close` writes what is buffered.
 */
export interface RequestLogSink {
  record(entry: RequestLogEntry): void | Promise<void>;
  close?(): Promise<void>;
}

/** Result of one readiness check; `detail` says why it failed. */
export interface ReadinessResult {
  ok: boolean;
  detail?: string;
}

/** A named dependency probe for `/api/ready` (engine connected, database answers…). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<ReadinessResult | boolean> | ReadinessResult | boolean;
}
