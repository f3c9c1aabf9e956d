import { KeptConnection, requestHead } from './kept-connection.js';
import type { AttemptResult } from './pinned-request.js';
import { BatchSigner } from './signing.js';
import type { WebhookTarget } from './webhook-target.js';

/**
 * A run of deliveries to one endpoint, in its queue order, as the dispatcher hands them to the
 * HTTP side (a worker thread, or this thread): everything an attempt needs, plain data so it can
 * cross a `postMessage`. The SSRF check was made by the dispatcher: `address` is the checked one,
 * and `checkedUntil` says how long that check holds (a name's resolution is reused for a few
 * seconds; an IP-literal URL needs no lookup, so its check holds for ever: null).
 */
export interface DeliveryBatch {
  /** The endpoint (webhook id): its connection is kept between batches. */
  endpoint: string;
  url: string;
  hostname: string;
  address: string;
  family: 4 | 6;
  /** `Date.now()` after which no attempt may start without a fresh check; null: never expires. */
  checkedUntil: number | null;
  secret: string;
  customHeaders: Record<string, string>;
  timeoutMs: number;
  /** The dispatcher's clock (ms) when the batch was made, and `Date.now()` then: an attempt's time is clockAt + real time elapsed. */
  clockAt: number;
  wallAt: number;
  items: DeliveryItem[];
  /**
   * Sent while the endpoint's previous batch is still running (the dispatcher reads its next page
   * meanwhile): attempted only once that one has sent every item successfully, and skipped (no
   * attempt) when it stopped short — a failure blocks what follows it. See {@link EndpointLanes}.
   */
  continues?: boolean;
  /** Test seam for https to a self-signed receiver; never set in production. */
  ca?: string;
}

export interface DeliveryItem {
  deliveryId: string;
  eventId: string;
  eventType: string;
  tenantId: string;
  body: string;
}

/** One attempt's outcome and when it started (dispatcher clock ms). */
export interface BatchAttempt extends AttemptResult {
  at: number;
}

/**
 * The attempts made, in order: a prefix of the items. The run stops after the first failure (only
 * an endpoint's head is ever attempted, so nothing behind a failed event may go), when the check
 * expired (`expired`), or when cancelled (shutdown).
 */
export interface BatchOutcome {
  attempts: BatchAttempt[];
  expired: boolean;
}

/** An endpoint not attempted for this long loses its connection. */
const IDLE_ENDPOINT_MS = 60_000;

interface Pinned {
  key: string;
  connection: KeptConnection;
  lastUsed: number;
}

/**
 * One kept-alive connection per endpoint, pinned to the checked address: it is made for one
 * (scheme, address, host) and only ever connects there (see kept-connection.ts). When the
 * endpoint's checked address changes, or its check fails ({@link drop}), the connection is closed,
 * so a connection to an address that no longer passes the check is never reused.
 */
export class DeliveryConnections {
  private readonly byEndpoint = new Map<string, Pinned>();
  private lastSweep = Date.now();
  /** Connections opened so far (tests: N deliveries over one connection). */
  opened = 0;

  connectionFor(endpoint: string, target: WebhookTarget, timeoutMs: number, ca?: string): KeptConnection {
    const key = `${target.url.protocol}//${target.address}|${target.url.host}|${timeoutMs}${ca === undefined ? '' : '+ca'}`;
    const now = Date.now();
    this.sweep(now);
    const have = this.byEndpoint.get(endpoint);
    if (have && have.key === key) {
      have.lastUsed = now;
      return have.connection;
    }
    have?.connection.close();
    const connection = new KeptConnection(target, timeoutMs, { ...(ca !== undefined && { ca }), onConnect: () => this.opened++ });
    this.byEndpoint.set(endpoint, { key, connection, lastUsed: now });
    return connection;
  }

  /** The endpoint's check failed (or it is gone): close its connection. */
  drop(endpoint: string): void {
    const have = this.byEndpoint.get(endpoint);
    have?.connection.close();
    this.byEndpoint.delete(endpoint);
  }

  closeAll(): void {
    for (const p of this.byEndpoint.values()) p.connection.close();
    this.byEndpoint.clear();
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < IDLE_ENDPOINT_MS) return;
    this.lastSweep = now;
    for (const [endpoint, p] of this.byEndpoint) if (now - p.lastUsed > IDLE_ENDPOINT_MS) this.drop(endpoint);
  }
}

/**
 * Runs each endpoint's batches one after another, in the order they were handed over (batches of
 * different endpoints run side by side). A batch marked `continues` goes only if the endpoint's
 * batch before it completed — every item attempted and delivered; otherwise it resolves with no
 * attempt, and so does every `continues` batch queued behind it. The dispatcher thus keeps an
 * endpoint's next page queued behind the one on the wire (no idle connection while it records the
 * last page and reads the next) without ever sending an event past a failed one.
 */
export class EndpointLanes {
  /**
   * Per endpoint: its last batch (to queue behind), whether the last one that ran completed, how
   * many are queued or running, and when one was last handed over.
   */
  private readonly lanes = new Map<string, { tail: Promise<unknown>; complete: boolean; queued: number; lastUsed: number }>();
  private lastSweep: number;

  constructor(private readonly connections: DeliveryConnections, private readonly cancelled: () => boolean, private readonly now: () => number = Date.now) {
    this.lastSweep = now();
  }

  run(batch: DeliveryBatch): Promise<BatchOutcome> {
    const now = this.now();
    this.sweep(now);
    let lane = this.lanes.get(batch.endpoint);
    if (!lane) this.lanes.set(batch.endpoint, (lane = { tail: Promise.resolve(), complete: false, queued: 0, lastUsed: now }));
    const l = lane;
    l.queued++;
    l.lastUsed = now;
    const outcome = l.tail.then(async (): Promise<BatchOutcome> => {
      // Nothing known of a batch before it (a fresh thread, a lane swept) counts as not complete: skipped, read again later.
      if (batch.continues && !l.complete) return { attempts: [], expired: false };
      l.complete = false;
      const o = await runDeliveryBatch(batch, this.connections, this.cancelled);
      l.complete = !o.expired && o.attempts.length === batch.items.length && o.attempts.every((a) => a.ok);
      return o;
    });
    l.tail = outcome.catch(() => undefined).finally(() => l.queued--);
    return outcome;
  }

  /** The endpoint is gone or refused: nothing queued behind its current batch goes. */
  forget(endpoint: string): void {
    const l = this.lanes.get(endpoint);
    if (l) l.complete = false;
  }

  /** Endpoints with a lane (tests). */
  get size(): number {
    return this.lanes.size;
  }

  /** Lanes idle for a minute are dropped (endpoints deleted, or quiet): memory stays bounded by the endpoints in use. */
  private sweep(now: number): void {
    if (now - this.lastSweep < IDLE_ENDPOINT_MS) return;
    this.lastSweep = now;
    for (const [endpoint, l] of this.lanes) if (l.queued === 0 && now - l.lastUsed > IDLE_ENDPOINT_MS) this.lanes.delete(endpoint);
  }
}

/**
 * Attempts a batch's deliveries one after another (per-endpoint order), each signed at its own
 * attempt time (a retry, or an item that waited behind slow ones, is never sent with a stale
 * timestamp), over the endpoint's kept-alive connection. Never throws for network failures.
 *
 * The next item is signed while the current one is on the wire (in the thread's check phase, after
 * this round's other answers have sent their next requests): an answer is followed by the next
 * request at once, without the two HMACs in between. With 5–10 endpoints per thread answering
 * together, that shortens the stretch in which the receivers wait for the thread. A signature
 * made in an earlier second than the attempt is made again, so the timestamp is the attempt's.
 */
export async function runDeliveryBatch(batch: DeliveryBatch, connections: DeliveryConnections, cancelled: () => boolean): Promise<BatchOutcome> {
  const url = new URL(batch.url);
  const target = { url, hostname: batch.hostname, address: batch.address, family: batch.family };
  const signer = new BatchSigner(batch.secret, batch.customHeaders);
  const { items } = batch;
  const clock = () => batch.clockAt + (Date.now() - batch.wallAt);
  const prepare = (index: number, at: number): SignedAttempt => signedAttempt(signer, target, items[index]!, index, at);
  const attempts: BatchAttempt[] = [];
  // Written by the check-phase callback below (a holder, so the compiler sees it can change across the await).
  const ahead: { next: SignedAttempt | null } = { next: null };
  for (let i = 0; i < items.length; i++) {
    if (cancelled()) break;
    if (batch.checkedUntil !== null && Date.now() > batch.checkedUntil) return { attempts, expired: true };
    const at = clock();
    const early = ahead.next;
    const signed = early !== null && early.index === i && Math.floor(early.at / 1000) === Math.floor(at / 1000) ? early : prepare(i, at);
    ahead.next = null;
    const connection = connections.connectionFor(batch.endpoint, target, batch.timeoutMs, batch.ca);
    const sent = signed.head === null ? Promise.resolve(unsendable(signed.error)) : connection.send(signed.head, signed.body);
    if (i + 1 < items.length) setImmediate(() => (ahead.next = prepare(i + 1, clock())));
    const result = await sent;
    // Fields copied one by one: a spread of the result took ~0.7 µs an attempt (V8's slow path), thirty times this.
    attempts.push({ ok: result.ok, statusCode: result.statusCode, excerpt: result.excerpt, error: result.error, durationMs: result.durationMs, at: signed.at });
    if (!result.ok) break;
  }
  return { attempts, expired: false };
}

/** An item ready to write: its request head (null when it cannot be sent), the exact body bytes, when it was signed. */
interface SignedAttempt {
  index: number;
  at: number;
  head: string | null;
  error: string;
  body: Buffer;
}

function signedAttempt(signer: BatchSigner, target: WebhookTarget, item: DeliveryItem, index: number, at: number): SignedAttempt {
  // The exact bytes sent, encoded once for both signatures and the request.
  const body = Buffer.from(item.body, 'utf8');
  try {
    const lines = signer.lines({ eventId: item.eventId, eventType: item.eventType, tenantId: item.tenantId, deliveryId: item.deliveryId, timestamp: Math.floor(at / 1000), body });
    return { index, at, head: requestHead(target, lines, body.length), error: '', body };
  } catch (err) {
    // A line break in a header (refused at creation): a failed attempt, not a throw.
    return { index, at, head: null, error: (err as Error).message, body };
  }
}

const unsendable = (error: string): AttemptResult => ({ ok: false, statusCode: null, excerpt: null, error, durationMs: 0 });
