/**
 * Test-only helpers for the transaction layer's tests: messages built directly as objects (no
 * parser needed), a recording MessageSender, and flows. Not imported by production code.
 */
import { FakeClock } from '../../../test/support/fake-clock.js';
import { displayName } from '../message/headers.js';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';
import { buildResponse } from './message-access.js';
import { TransactionLayer, type TransactionLayerOptions } from './transaction-layer.js';
import type { ClientTransactionUser, MessageSender } from './types.js';

export interface SentRecord {
  at: number;
  text: string;
  dest: Destination;
  /** The start line, e.g. `SIP/2.0 100 Trying` or `ACK sip:bob@b.example SIP/2.0`. */
  line: string;
}

/** Records every send with the fake time; can be told to fail sends. */
export class FakeSender implements MessageSender {
  readonly sent: SentRecord[] = [];
  /** When set, every send rejects with this error. */
  failWith: Error | undefined;
  /** When set, every send throws synchronously. */
  throwWith: Error | undefined;

  constructor(private readonly clock: FakeClock) {}

  send(data: Buffer, dest: Destination): Promise<Flow> {
    if (this.throwWith) throw this.throwWith;
    const text = data.toString('utf8');
    this.sent.push({ at: this.clock.now(), text, dest, line: text.slice(0, text.indexOf('\r\n')) });
    if (this.failWith) return Promise.reject(this.failWith);
    const flow: Flow = {
      protocol: dest.protocol,
      local: { address: '10.0.0.1', port: 5060 },
      remote: { address: dest.address, port: dest.port },
    };
    if (dest.protocol !== 'udp') flow.connectionId = dest.connectionId ?? 'conn-1';
    return Promise.resolve(flow);
  }

  isReliable(protocol: Destination['protocol']): boolean {
    return protocol !== 'udp';
  }

  /** Start lines of everything sent, in order. */
  lines(): string[] {
    return this.sent.map((s) => s.line);
  }

  /** Send times of records whose start line starts with `prefix`. */
  times(prefix: string): number[] {
    return this.sent.filter((s) => s.line.startsWith(prefix)).map((s) => s.at);
  }

  clear(): void {
    this.sent.length = 0;
  }
}

export function udpFlow(remotePort = 5070): Flow {
  return { protocol: 'udp', local: { address: '10.0.0.1', port: 5060 }, remote: { address: '192.0.2.10', port: remotePort } };
}

export function tcpFlow(connectionId = 'tcp-7'): Flow {
  return { ...udpFlow(40000), protocol: 'tcp', connectionId };
}

/** The flow responses from udpDest's peer arrive on. */
export function peerFlow(): Flow {
  return { protocol: 'udp', local: { address: '10.0.0.1', port: 5060 }, remote: { address: '192.0.2.20', port: 5060 } };
}

export const udpDest: Destination = { protocol: 'udp', address: '192.0.2.20', port: 5060 };
export const tcpDest: Destination = { protocol: 'tcp', address: '192.0.2.20', port: 5060 };

function h(name: string, value: string): SipHeader {
  return { name, rawName: displayName(name), value };
}

export interface RequestSpec {
  uri?: string;
  /** Top Via value; default `SIP/2.0/UDP 192.0.2.10:5070;branch=<branch>;rport`. */
  via?: string;
  branch?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  /** CSeq method when different from the request method (never needed but for odd tests). */
  cseqMethod?: string;
  extra?: Array<[string, string]>;
}

/** A request object as the parser would produce it. */
export function makeRequest(method: string, spec: RequestSpec = {}): SipRequest {
  const via = spec.via ?? `SIP/2.0/UDP 192.0.2.10:5070;branch=${spec.branch ?? 'z9hG4bK-a1'};rport`;
  const to = `<sip:bob@b.example>${spec.toTag ? `;tag=${spec.toTag}` : ''}`;
  const headers = [
    h('via', via),
    h('max-forwards', '70'),
    h('from', `"Alice" <sip:alice@a.example>;tag=${spec.fromTag ?? 'f1'}`),
    h('to', to),
    h('call-id', spec.callId ?? 'call-1@a.example'),
    h('cseq', `${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`),
  ];
  for (const [name, value] of spec.extra ?? []) headers.push(h(name.toLowerCase(), value));
  return { type: 'request', method, uri: spec.uri ?? 'sip:bob@b.example', headers, body: Buffer.alloc(0) };
}

/** A response to `req` (Via, From, To, Call-ID, CSeq copied; `toTag` added). */
export function makeResponse(req: SipRequest, status: number, toTag?: string): SipResponse {
  return buildResponse(req, status, undefined, toTag === undefined ? {} : { toTag });
}

/** A ClientTransactionUser recording what it is told. */
export function recordingUser(clock?: FakeClock): ClientTransactionUser & {
  responses: number[];
  failures: Array<{ reason: string; at: number }>;
  terminated: number;
} {
  const user = {
    responses: [] as number[],
    failures: [] as Array<{ reason: string; at: number }>,
    terminated: 0,
    onResponse(res: SipResponse) {
      user.responses.push(res.status);
    },
    onFailure(reason: 'timeout' | 'transport-error') {
      user.failures.push({ reason, at: clock?.now() ?? -1 });
    },
    onTerminated() {
      user.terminated++;
    },
  };
  return user;
}

/** A layer on a fake clock and recording sender, with default RFC timers. */
export function setup(opts: Partial<TransactionLayerOptions> = {}): {
  clock: FakeClock;
  sender: FakeSender;
  layer: TransactionLayer;
} {
  const clock = new FakeClock();
  const sender = new FakeSender(clock);
  const layer = new TransactionLayer({ sender, clock, ...opts });
  return { clock, sender, layer };
}

/** Let rejected/resolved send promises settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}
