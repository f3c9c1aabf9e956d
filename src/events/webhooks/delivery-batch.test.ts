/**
 * runDeliveryBatch on its own (the pipeline tests cover it through the dispatcher): the next item
 * is signed while the one before it is on the wire, and that signature is never sent stale.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryConnections, runDeliveryBatch, type DeliveryBatch } from './delivery-batch.js';
import { edgvoipSignature, standardWebhooksSignature } from './signing.js';

interface Receipt {
  id: string;
  timestamp: number;
  receivedAt: number;
  body: string;
  edgvoip: string;
  standard: string;
  source: string | undefined;
}

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** A receiver that answers 200, holding the answer to the request whose event id is `hold.id` for `hold.ms`. */
async function receiver(hold?: { id: string; ms: number }): Promise<{ port: number; receipts: Receipt[] }> {
  const receipts: Receipt[] = [];
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = (name: string) => String(req.headers[name]);
      receipts.push({ id: h('webhook-id'), timestamp: Number(h('webhook-timestamp')), receivedAt: Date.now(), body: Buffer.concat(chunks).toString('utf8'), edgvoip: h('x-webhook-signature'), standard: h('webhook-signature'), source: req.headers['x-source'] as string | undefined });
      const answer = () => res.writeHead(200).end('ok');
      if (hold && h('webhook-id') === hold.id) setTimeout(answer, hold.ms);
      else answer();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, receipts };
}

const SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

function batchTo(port: number, n: number): DeliveryBatch {
  const now = Date.now();
  return {
    endpoint: 'wh-1', url: `http://127.0.0.1:${port}/hook`, hostname: '127.0.0.1', address: '127.0.0.1', family: 4, checkedUntil: null,
    secret: SECRET, customHeaders: {}, timeoutMs: 5000, clockAt: now, wallAt: now,
    items: Array.from({ length: n }, (_, i) => ({ deliveryId: `d${i}`, eventId: `e${i}`, eventType: 'call.ringing', tenantId: 't1', body: JSON.stringify({ id: `e${i}`, n: i }) })),
  };
}

describe('runDeliveryBatch', () => {
  it('sends every item in order over one connection, each with signatures that verify', async () => {
    const { port, receipts } = await receiver();
    const connections = new DeliveryConnections();
    const outcome = await runDeliveryBatch(batchTo(port, 50), connections, () => false);
    connections.closeAll();
    expect(outcome.attempts.map((a) => a.ok)).toEqual(Array(50).fill(true));
    expect(receipts.map((r) => r.id)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    for (const r of receipts) {
      expect(r.edgvoip).toBe(edgvoipSignature(SECRET, r.body));
      expect(r.standard).toBe(standardWebhooksSignature(SECRET, r.id, r.timestamp, r.body));
    }
    expect(connections.opened).toBe(1);
  });

  it('signs an item again when the one before it was answered in a later second than it was signed ahead', async () => {
    // e0's answer comes 1.2 s late: e1 was signed ahead just after e0 went, so its early signature is over a second old.
    const { port, receipts } = await receiver({ id: 'e0', ms: 1200 });
    const connections = new DeliveryConnections();
    const outcome = await runDeliveryBatch(batchTo(port, 3), connections, () => false);
    connections.closeAll();
    expect(receipts.map((r) => r.id)).toEqual(['e0', 'e1', 'e2']);
    for (const r of receipts) {
      // The timestamp is the second the request went (loopback: received within a few ms of it).
      expect(r.receivedAt / 1000 - r.timestamp).toBeGreaterThanOrEqual(0);
      expect(r.receivedAt / 1000 - r.timestamp).toBeLessThan(1.1);
      expect(r.standard).toBe(standardWebhooksSignature(SECRET, r.id, r.timestamp, r.body));
    }
    // The attempt time recorded is the signing time, the same second as what was sent.
    expect(outcome.attempts.map((a, i) => Math.floor(a.at / 1000) === receipts[i]!.timestamp)).toEqual([true, true, true]);
    expect(outcome.attempts[1]!.at - outcome.attempts[0]!.at).toBeGreaterThanOrEqual(1150);
  });

  it("sends the endpoint's custom headers; one holding a line break fails the first attempt and nothing is sent", async () => {
    const { port, receipts } = await receiver();
    const connections = new DeliveryConnections();
    const good = await runDeliveryBatch({ ...batchTo(port, 2), customHeaders: { 'X-Source': 'pbx' } }, connections, () => false);
    expect(good.attempts.map((a) => a.ok)).toEqual([true, true]);
    expect(receipts.map((r) => r.source)).toEqual(['pbx', 'pbx']);
    const bad = await runDeliveryBatch({ ...batchTo(port, 2), customHeaders: { 'X-Source': 'pbx\r\nhost: evil' } }, connections, () => false);
    connections.closeAll();
    expect(bad.attempts.map((a) => [a.ok, a.statusCode, a.error])).toEqual([[false, null, 'header "X-Source" holds a line break']]);
    expect(receipts).toHaveLength(2);
  });
});
