import { parentPort } from 'node:worker_threads';
import { DeliveryConnections, EndpointLanes } from './delivery-batch.js';
import { packOutcome, unpackBatch, type WireBatch, type WireOutcome } from './delivery-wire.js';

/**
 * The delivery worker thread (see delivery-pool.ts): runs the batches it is sent and posts back
 * each outcome, an endpoint's batches one after another (see EndpointLanes). Holds the endpoints'
 * kept-alive connections. `cancel` (shutdown) stops every batch after its current attempt; what
 * was not attempted is simply attempted again after a restart.
 */
export type ToWorker = { type: 'run'; id: number; batch: WireBatch } | { type: 'drop'; endpoint: string } | { type: 'cancel' } | { type: 'stats'; id: number };
export type FromWorker =
  | { type: 'done'; id: number; outcome: WireOutcome }
  | { type: 'failed'; id: number; error: string }
  | { type: 'stats'; id: number; opened: number };

const port = parentPort;
if (port) {
  const connections = new DeliveryConnections();
  let cancelled = false;
  const lanes = new EndpointLanes(connections, () => cancelled);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'run') {
      lanes.run(unpackBatch(m.batch)).then(
        (outcome) => port.postMessage({ type: 'done', id: m.id, outcome: packOutcome(outcome) } satisfies FromWorker),
        (err: unknown) => port.postMessage({ type: 'failed', id: m.id, error: String(err) } satisfies FromWorker),
      );
    } else if (m.type === 'drop') {
      connections.drop(m.endpoint);
      lanes.forget(m.endpoint);
    } else if (m.type === 'cancel') cancelled = true;
    else port.postMessage({ type: 'stats', id: m.id, opened: connections.opened } satisfies FromWorker);
  });
}
