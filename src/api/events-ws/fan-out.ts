import type { OutboxEvent } from '../../store/index.js';
import type { CallFactsCache } from './crm-aliases.js';
import { eventFrame, type EventFrames, type StreamClient, type WireFrame } from './stream-client.js';

/**
 * Offers a page of the tail to every live client. Clients are grouped by view (name set, tenant,
 * filter): each group's page is selected and framed once — one Buffer of frames written to each of
 * its clients in one call — so the per-client cost is a buffer check and a write, whatever the page
 * holds. A client whose cursor is not at the head (none, today) takes the event-by-event path.
 *
 * `from` is the tail's head before the page; the head after it is returned (unchanged for an empty page).
 */
export function fanOut(clients: ReadonlySet<StreamClient>, rows: readonly OutboxEvent[], from: number, calls: CallFactsCache): number {
  const last = rows.at(-1);
  if (!last) return from;
  const groups = new Map<string, { sample: StreamClient; members: StreamClient[]; frames: WireFrame[] }>();
  const odd: StreamClient[] = [];
  for (const c of clients) {
    if (c.catchingUp) continue;
    if (c.cursor !== from) {
      odd.push(c);
      continue;
    }
    const key = c.viewKey();
    const g = groups.get(key);
    if (g) g.members.push(c);
    else groups.set(key, { sample: c, members: [c], frames: [] });
  }
  for (const c of odd) c.cork();
  for (const e of rows) {
    calls.learn(e);
    const frames: EventFrames = {};
    for (const g of groups.values()) {
      if (!g.sample.wants(e)) continue;
      const frame = eventFrame(e, g.sample.names, calls, frames);
      if (frame) g.frames.push(frame);
    }
    for (const c of odd) c.offer(e, calls, frames);
  }
  for (const c of odd) c.uncork();
  for (const g of groups.values()) {
    const page = { wire: g.frames.length === 1 ? g.frames[0]!.wire : Buffer.concat(g.frames.map((f) => f.wire)), frames: g.frames };
    for (const c of g.members) c.deliver(page, last.sequence);
  }
  return last.sequence;
}
