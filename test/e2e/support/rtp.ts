/**
 * Media helpers for end-to-end tests: RTP ports inside a suite's own range, and what the rtpengine
 * an `npm start` runs has relayed, read from rtpengine itself over its ng control socket.
 */
import { createSocket } from 'node:dgram';
import { createNgClient } from '../../../src/media/rtpengine/ng-client.js';
import { sessionInfoFromQuery } from '../../../src/media/rtpengine/ng-params.js';
import type { LogLine } from './switchboard-run.js';

async function udpFree(address: string, port: number): Promise<boolean> {
  const sock = createSocket('udp4');
  return new Promise((resolve) => {
    sock.once('error', () => resolve(false));
    sock.bind(port, address, () => sock.close(() => resolve(true)));
  });
}

/**
 * An even port in [min, max] on `address` with it and the `span - 1` ports after it free for UDP
 * (an RTP/RTCP pair is 2; SIPp binds its media port and that + 2, so 4). Suites pass disjoint
 * ranges, so parallel files and worktrees do not race for the same ports.
 */
export async function freeRtpPort(address: string, min: number, max: number, span = 2): Promise<number> {
  for (let port = min + (min % 2); port + span - 1 <= max; port += 2) {
    let free = true;
    for (let p = port; p < port + span && free; p++) free = await udpFree(address, p);
    if (free) return port;
  }
  throw new Error(`no ${span} free UDP ports on ${address} in ${min}-${max}`);
}

/** The ng socket of the rtpengine a run started, from its log (the latest start wins). */
export function ngOf(lines: LogLine[]): { host: string; port: number } {
  const line = lines.findLast((l) => l.msg === 'rtpengine started' || l.msg === 'rtpengine restarted and answers ping');
  const ng = line?.ng as { host?: unknown; port?: unknown } | undefined;
  if (typeof ng?.host !== 'string' || typeof ng.port !== 'number') throw new Error('no "rtpengine started" log line with its ng address');
  return { host: ng.host, port: ng.port };
}

/**
 * RTP packets rtpengine received from each side of every call it holds now, by the label the call
 * code gives a side ('caller', 'callee'). rtpengine counts on the receiving stream, so `caller` is
 * what went caller→callee through it and `callee` what went back. Empty when no call is up.
 */
export async function relayedRtpPackets(ng: { host: string; port: number }): Promise<Record<string, number>> {
  const client = createNgClient({ ...ng, timeoutMs: 1000 });
  try {
    const list = await client.send('list', { limit: 100 });
    const calls = Array.isArray(list.calls) ? list.calls.filter((c): c is string => typeof c === 'string') : [];
    const packets: Record<string, number> = {};
    for (const callId of calls) {
      const info = sessionInfoFromQuery(callId, await client.send('query', { 'call-id': callId }));
      for (const leg of info.legs) packets[leg.label ?? leg.tag] = (packets[leg.label ?? leg.tag] ?? 0) + leg.rtp.packets;
    }
    return packets;
  } finally {
    client.close();
  }
}
