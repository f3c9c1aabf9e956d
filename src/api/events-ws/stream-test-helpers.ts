import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import WebSocket from 'ws';
import { makeEvent } from '../../events/envelope.js';
import type { KyselyPlugin } from 'kysely';
import { appendOutboxEvents, createApiKey, createTenant, inTransaction, type Db, type Store } from '../../store/index.js';
import { openTestStoreWithTenant } from '../../store/test-helpers.js';
import { EventStream, type EventStreamOptions } from './event-stream.js';
import { attachEventStream } from './stream-upgrade.js';

/** A store with two tenants and a read key for each, and an event stream on a loopback HTTP server. */
export async function startStreamServer(opts: Partial<EventStreamOptions> = {}) {
  const { store, tenantId } = await openTestStoreWithTenant();
  const other = await createTenant(store.db, { name: 'Other', sipDomain: 'other.test' });
  const key = (await createApiKey(store.db, { tenantId, name: 'reader', scopes: ['voip:read'] })).key;
  const otherKey = (await createApiKey(store.db, { tenantId: other.id, name: 'reader', scopes: ['voip:read'] })).key;
  const reads = countingSelects(store.db);
  const stream = new EventStream({ db: reads.db, log: pino({ level: 'silent' }), ...opts });
  await stream.start();
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  attachEventStream(server, stream, store.db);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    store, tenantId, otherTenantId: other.id, key, otherKey, stream, port,
    /** Outbox queries the stream has run so far. */
    outboxReads: reads.count,
    url: (query = '') => `ws://127.0.0.1:${port}/ws${query}`,
    close: async () => {
      stream.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      store.close();
    },
  };
}

/** Writes `n` call.ringing events for a tenant through the outbox writer, then wakes the stream (as a commit does). */
export async function produce(store: Store, stream: EventStream, tenantId: string, n: number, tag = 'c'): Promise<number[]> {
  const seqs = await commit(store, tenantId, n, tag);
  stream.wake();
  return seqs;
}

/** Writes `n` call.ringing events in one transaction without waking anything. */
export async function commit(store: Store, tenantId: string, n: number, tag = 'c'): Promise<number[]> {
  const envelopes = Array.from({ length: n }, (_, i) => makeEvent('call.ringing', { tenantId, tenantExternalId: null, data: { call_id: `${tag}${i}`, extension_id: null } }));
  return inTransaction(store.db, (trx) => appendOutboxEvents(trx, envelopes));
}

export interface Frame {
  type: string;
  sequence?: number;
  event?: { id: string; type: string; tenant_id: string; data: Record<string, unknown> } | string;
  [k: string]: unknown;
}

/** A client that records every frame; `until` waits for a condition on them. */
export function connect(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, options);
  const frames: Frame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as Frame));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) })));
  const events = () => frames.filter((f) => f.type === 'event');
  const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out; frames: ${JSON.stringify(frames).slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  /** Waits for the server's `subscribed` frame (the client is live from then on). */
  const subscribed = (): Promise<void> => until(() => frames.some((f) => f.type === 'subscribed'));
  return { ws, frames, events, opened, closed, until, subscribed };
}

/** Counts the SELECTs the stream runs (its db handle reads only the outbox): a spy on the store. */
function countingSelects(db: Db): { db: Db; count: () => number } {
  let n = 0;
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      if (args.node.kind === 'SelectQueryNode') n++;
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { db: db.withPlugin(plugin), count: () => n };
}
