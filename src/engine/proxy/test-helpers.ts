/**
 * Test-only helpers for the proxy's unit tests: a fake transaction layer that records branches
 * and lets the test answer them, a recording app connection and server transaction, and a proxy
 * wired to them on a FakeClock. Not imported by production code.
 */
import { FakeClock } from '../../../test/support/fake-clock.js';
import { LocalAddresses } from '../core/local-address.js';
import type { AppConnection, Logger, ServerTxn } from '../core/ports.js';
import type { InboundTxn } from '../core/state.js';
import { prependHeader } from '../message/headers.js';
import { parseMessage } from '../message/parse.js';
import { buildResponse } from '../message/response.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.js';
import type { ClientTransactionUser, MessageSender } from '../transaction/types.js';
import type { Destination, Flow, ListeningTransport } from '../transport/types.js';
import type { ProxyCommand } from '../wire/client-command.js';
import { StatefulProxy } from './stateful-proxy.js';
import type { CdrKind, ProxyClientTxn, ProxyDeps, ProxyTransactions, SendOptions } from './types.js';

export const silentLog: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Our one UDP transport: 10.0.0.1:5060 (a specific bind address, so no host aliases apply). */
export const ourListener: ListeningTransport = {
  spec: { protocol: 'udp', bindAddress: '10.0.0.1', port: 5060, advertisedHost: '10.0.0.1', localHost: '10.0.0.1' },
  local: { address: '10.0.0.1', port: 5060 },
};

export function localAddresses(): LocalAddresses {
  return new LocalAddresses([ourListener]);
}

/** Parse SIP text written with `\n` line ends (converted to CRLF). */
export function sip<T extends SipMessage = SipRequest>(text: string): T {
  const raw = text.replace(/^\n/, '').replace(/\r?\n/g, '\r\n');
  const out = parseMessage(Buffer.from(raw.endsWith('\r\n\r\n') ? raw : `${raw}\r\n`));
  if (out.kind !== 'message') throw new Error(`test message does not parse: ${out.reason}`);
  return out.message as T;
}

/** An INVITE from the UAC at 192.0.2.10:5070 to `uri`, through us. */
export function invite(uri = 'sip:svc@10.0.0.1:5060', extra = ''): SipRequest {
  return sip(`INVITE ${uri} SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5070;branch=z9hG4bKuac1;rport=5070
Max-Forwards: 70
From: <sip:alice@192.0.2.10>;tag=fa
To: <sip:svc@10.0.0.1>
Call-ID: call-1
CSeq: 1 INVITE
Contact: <sip:alice@192.0.2.10:5070>
Subject: hello
${extra}Content-Length: 0
`);
}

export const uacFlow: Flow = { protocol: 'udp', local: { address: '10.0.0.1', port: 5060 }, remote: { address: '192.0.2.10', port: 5070 } };

export function flowFrom(dest: Destination): Flow {
  return { protocol: dest.protocol, local: { address: '10.0.0.1', port: 5060 }, remote: { address: dest.address, port: dest.port } };
}

/** A branch as the fake transaction layer saw it. */
export interface FakeBranch {
  req: SipRequest;
  dest: Destination;
  user: ClientTransactionUser;
  opts: SendOptions;
  cancels: Array<Array<[string, string]> | undefined>;
}

export class FakeTransactions implements ProxyTransactions {
  readonly branches: FakeBranch[] = [];
  readonly stateless: Array<{ req: SipRequest; dest: Destination; opts: SendOptions }> = [];
  private n = 0;

  sendRequest(req: SipRequest, dest: Destination, user: ClientTransactionUser, opts: SendOptions): ProxyClientTxn {
    const request = stamp(req, opts, opts.branch ?? `z9hG4bKbr${++this.n}`);
    const b: FakeBranch = { req: request, dest, user, opts, cancels: [] };
    this.branches.push(b);
    return { request, cancel: (headers) => b.cancels.push(headers) };
  }

  sendStateless(req: SipRequest, dest: Destination, opts: SendOptions): { sent: Promise<Flow> } {
    this.stateless.push({ req: stamp(req, opts, opts.branch ?? 'z9hG4bKsl'), dest, opts });
    return { sent: Promise.resolve(flowFrom(dest)) };
  }

  /** Answer branch `i` as its UAS would (`toTag` on everything but 100). */
  respond(i: number, status: number, opts: { toTag?: string; headers?: Array<[string, string]> } = {}): SipResponse {
    const b = this.branches[i];
    if (!b) throw new Error(`no branch ${i}`);
    const res = buildResponse(b.req, status, undefined, { toTag: opts.toTag ?? `t${i}`, ...(opts.headers ? { headers: opts.headers } : {}) });
    b.user.onResponse(res, flowFrom(b.dest));
    return res;
  }
}

function stamp(req: SipRequest, opts: SendOptions, branch: string): SipRequest {
  const copy: SipRequest = { ...req, headers: [...req.headers] };
  const { protocol, host, port } = opts.sentBy;
  prependHeader(copy, 'via', `SIP/2.0/${protocol.toUpperCase()} ${host}:${port};branch=${branch};rport`);
  return copy;
}

export class FakeConn implements AppConnection {
  readonly id = 'app-1';
  closed = false;
  readonly sent: string[] = [];
  send(payload: string): void {
    this.sent.push(payload);
  }
  /** The meta tokens after `response|<msgId>|` of each frame: e.g. ['OK','done'], ['NOK','reason']. */
  frames(): string[][] {
    return this.sent.map((p) => (p.split('\r\n')[0] ?? '').split('|').slice(3));
  }
  /** Status codes of the `continue` frames, then 'done' or 'NOK'. */
  summary(): Array<number | string> {
    return this.sent.map((p) => {
      const t = (p.split('\r\n')[0] ?? '').split('|');
      if (t[3] === 'NOK') return 'NOK';
      if (t[4] === 'done') return 'done';
      return Number(/^SIP\/2\.0 (\d{3})/m.exec(p)?.[1]);
    });
  }
}

export class FakeServerTxn implements ServerTxn {
  readonly responses: SipResponse[] = [];
  constructor(
    readonly id: string,
    readonly request: SipRequest,
    readonly flow: Flow = uacFlow,
  ) {}
  terminated = false;
  respond(res: SipResponse): void {
    this.responses.push(res);
  }
  terminate(): void {
    this.terminated = true;
  }
  statuses(): number[] {
    return this.responses.map((r) => r.status);
  }
}

export class RecordingSender implements MessageSender {
  readonly sent: Array<{ text: string; dest: Destination }> = [];
  send(data: Buffer, dest: Destination): Promise<Flow> {
    this.sent.push({ text: data.toString('utf8'), dest });
    return Promise.resolve(flowFrom(dest));
  }
  isReliable(protocol: Destination['protocol']): boolean {
    return protocol !== 'udp';
  }
}

/** A proxy on fakes, with pending requests the test adds by txnId. */
export class ProxyHarness {
  readonly clock = new FakeClock();
  readonly transactions = new FakeTransactions();
  readonly sender = new RecordingSender();
  readonly conn = new FakeConn();
  readonly pending = new Map<string, InboundTxn>();
  readonly cdrs: Array<{ kind: CdrKind; source: string; extra?: string; status?: number }> = [];
  readonly proxy: StatefulProxy;
  readonly deps: ProxyDeps;

  constructor() {
    this.deps = {
      clock: this.clock,
      log: silentLog,
      t1x64: 32_000,
      timerC: 185_000,
      transactions: this.transactions,
      sender: this.sender,
      local: localAddresses(),
      responseDestination: (_via, flow) => ({ protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port }),
      takeOver: (id) => {
        const t = this.pending.get(id);
        if (!t) return { kind: 'unknown' };
        this.pending.delete(id);
        return { kind: 'taken', inbound: t };
      },
      resolve: (uri) => {
        const m = /^sips?:(?:[^@]*@)?([^:;>]+)(?::(\d+))?/.exec(uri);
        if (!m?.[1]) throw new Error(`bad uri ${uri}`);
        return { protocol: 'udp', address: m[1], port: m[2] ? Number(m[2]) : 5060, host: m[1] };
      },
      cdr: (kind, source, msg, extra) => {
        this.cdrs.push({ kind, source, ...(extra ? { extra } : {}), ...(msg.type === 'response' ? { status: msg.status } : {}) });
      },
      preserveHeaderNames: new Set(),
    };
    this.proxy = new StatefulProxy(this.deps);
  }

  /** Register a pending request as the core would have delivered it; returns its server transaction. */
  addPending(txnId: string, req: SipRequest = invite()): FakeServerTxn {
    const txn = new FakeServerTxn(`srv-${txnId}`, req);
    this.pending.set(txnId, { txnId, txn, req, flow: uacFlow, owner: this.conn, answered: 'none' });
    return txn;
  }

  /** Send a `proxy` command as srf builds it. */
  proxyCmd(txnId: string, destinations: string[], opts: Partial<ProxyCommand> = {}, headers = ''): void {
    const cmd: ProxyCommand = {
      type: 'proxy',
      msgId: 'm1',
      transactionId: txnId,
      remainInDialog: false,
      fullResponse: true,
      followRedirects: false,
      simultaneous: false,
      provisionalTimeout: '',
      finalTimeout: '',
      destinations,
      sip: `INVITE ${destinations[0] ?? ''} SIP/2.0\r\n${headers}Content-Length: 0\r\n\r\n`,
      ...opts,
    };
    this.proxy.onProxy(this.conn, cmd);
  }
}
