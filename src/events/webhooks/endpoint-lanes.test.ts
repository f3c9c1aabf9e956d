/**
 * An endpoint's batches run one after another, and a batch handed over while the one before it is
 * still on the wire (`continues`) goes only if that one went through completely: a failure blocks
 * what follows it, whichever batch it is in. Real HTTP on loopback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryConnections, EndpointLanes, type DeliveryBatch } from './delivery-batch.js';

let server: Server;
let port: number;
/** Event ids in the order the receiver got them. */
let hits: string[] = [];
/** Answer 500 to these event ids, once each. */
let failing = new Set<string>();
/** How long the receiver takes to answer (ms). */
let answerAfterMs = 5;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      hits.push(id);
      // A slow answer, so later batches are handed over while the first is still on the wire.
      const status = failing.delete(id) ? 500 : 200;
      setTimeout(() => res.writeHead(status).end(), answerAfterMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  hits = [];
  failing = new Set();
  answerAfterMs = 5;
});

function batch(endpoint: string, ids: string[], continues = false): DeliveryBatch {
  return {
    endpoint, url: `http://127.0.0.1:${port}/hook`, hostname: '127.0.0.1', address: '127.0.0.1', family: 4, checkedUntil: null,
    secret: 'a-secret-of-sixteen+', customHeaders: {}, timeoutMs: 2000, clockAt: Date.now(), wallAt: Date.now(),
    items: ids.map((id) => ({ deliveryId: `d-${id}`, eventId: id, eventType: 'call.ringing', tenantId: 't1', body: JSON.stringify({ id }) })),
    ...(continues && { continues }),
  };
}

describe('EndpointLanes', () => {
  it('runs an endpoint’s batches in the order handed over; one that continues a complete batch goes after it', async () => {
    const lanes = new EndpointLanes(new DeliveryConnections(), () => false);
    const [a, b, c] = await Promise.all([lanes.run(batch('e1', ['a1', 'a2'])), lanes.run(batch('e1', ['b1'], true)), lanes.run(batch('e1', ['c1', 'c2'], true))]);
    expect(hits).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
    expect([a, b, c].map((o) => o.attempts.map((x) => x.ok))).toEqual([[true, true], [true], [true, true]]);
  });

  it('skips, without an attempt, every batch that continues one that stopped at a failure; a fresh batch goes', async () => {
    failing.add('a2');
    const lanes = new EndpointLanes(new DeliveryConnections(), () => false);
    const outcomes = await Promise.all([
      lanes.run(batch('e1', ['a1', 'a2', 'a3'])),
      lanes.run(batch('e1', ['b1'], true)),
      lanes.run(batch('e1', ['c1'], true)),
      lanes.run(batch('e1', ['a2', 'a3', 'b1', 'c1'])), // the retry: a new run
    ]);
    expect(hits).toEqual(['a1', 'a2', 'a2', 'a3', 'b1', 'c1']);
    expect(outcomes.map((o) => o.attempts.length)).toEqual([2, 0, 0, 4]);
    expect(outcomes[0]!.attempts[1]).toMatchObject({ ok: false, statusCode: 500 });
  });

  it('skips a batch that continues nothing known (a thread that started after the batch before it)', async () => {
    const lanes = new EndpointLanes(new DeliveryConnections(), () => false);
    expect((await lanes.run(batch('e1', ['x1'], true))).attempts).toEqual([]);
    expect(hits).toEqual([]);
  });

  it('drops a lane idle for a minute (memory bounded by the endpoints in use), never one with a batch queued', async () => {
    let now = 0;
    const lanes = new EndpointLanes(new DeliveryConnections(), () => false, () => now);
    await lanes.run(batch('gone', ['g1']));
    await new Promise((r) => setImmediate(r)); // the lane's own bookkeeping settles after the outcome
    answerAfterMs = 200;
    const running = lanes.run(batch('busy', ['b1']));
    expect(lanes.size).toBe(2);
    now = 61_000;
    const fresh = lanes.run(batch('new', ['n1']));
    // `gone` was idle for over a minute: dropped; `busy` still has its batch on the wire.
    expect(lanes.size).toBe(2);
    // A batch continuing a dropped lane knows nothing before it: skipped, not sent.
    expect((await lanes.run(batch('gone', ['g2'], true))).attempts).toEqual([]);
    await Promise.all([running, fresh]);
    expect(hits).toEqual(['g1', 'b1', 'n1']);
  });

  it('runs different endpoints side by side: one endpoint’s failure does not hold another’s batches', async () => {
    failing.add('a1');
    const lanes = new EndpointLanes(new DeliveryConnections(), () => false);
    const [a, a2, b, b2] = await Promise.all([lanes.run(batch('e1', ['a1'])), lanes.run(batch('e1', ['a9'], true)), lanes.run(batch('e2', ['b1'])), lanes.run(batch('e2', ['b2'], true))]);
    expect(a.attempts.map((x) => x.ok)).toEqual([false]);
    expect(a2.attempts).toEqual([]);
    expect([...b.attempts, ...b2.attempts].map((x) => x.ok)).toEqual([true, true]);
    expect(hits.filter((h) => h.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(hits).not.toContain('a9');
  });
});
