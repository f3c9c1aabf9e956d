import { uuid } from '../../shared/ids.js';
import { parseAppMessage } from '../core/app-message.js';
import { familyOf } from '../core/local-address.js';
import type { AppConnection, ServerTxn } from '../core/ports.js';
import type { ProxyHooks } from '../inbound-pipeline.js';
import { buildResponse } from '../message/response.js';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import { effectiveMaxForwards } from '../message/validate.js';
import type { Flow } from '../transport/types.js';
import type { ProxyCommand } from '../wire/client-command.js';
import { parseProxyTimeout, responseNok } from '../wire/meta.js';
import { ChallengePins } from './challenge-pins.js';
import { prepareForward, requestUriIsOurs } from './forward-request.js';
import { ProxyOperation } from './proxy-operation.js';
import { StatelessRelay } from './stateless-relay.js';
import type { ProxyDeps, ProxyOptions, ProxySource } from './types.js';
import { topVia } from './via-stack.js';

interface Registered {
  op: ProxyOperation;
  serverTxnId: string;
  /** Top Via branch of a proxied INVITE, to recognise the ACK for a non-2xx we forwarded. */
  inviteBranch?: string;
}

/** Where an operation without an app reports: a connection that is always closed, so nothing is sent. */
const nowhere: AppConnection = { id: 'no-app', closed: true, send: () => undefined };

/**
 * The engine's proxy (drachtio-protocol §4.2 steps 4–5, §4.9): runs `proxy` commands as stateful
 * forking operations, relays requests in record-routed dialogs statelessly, and intercepts the
 * upstream CANCEL of a proxied INVITE. The inbound pipeline calls it through {@link ProxyHooks}.
 */
export class StatefulProxy implements ProxyHooks {
  private readonly byServerTxn = new Map<string, Registered>();
  private readonly byInviteBranch = new Map<string, Registered>();
  private readonly relay: StatelessRelay;
  private readonly pins: ChallengePins;

  constructor(private readonly deps: ProxyDeps) {
    this.pins = new ChallengePins(deps.clock);
    this.relay = new StatelessRelay(deps, (ack) => {
      const branch = topVia(ack)?.branch;
      return branch !== undefined && this.byInviteBranch.has(branch);
    });
  }

  /** A `proxy` command from an app (drachtio-protocol §3.1, §4.9). */
  onProxy(conn: AppConnection, cmd: ProxyCommand): void {
    const taken = this.deps.takeOver(cmd.transactionId);
    if (taken.kind !== 'taken') {
      conn.send(responseNok(cmd.msgId, `Unknown transaction id: ${cmd.transactionId}`));
      return;
    }
    const { txn, req, flow } = taken.inbound;
    if (this.tooManyHops(txn, req)) {
      conn.send(responseNok(cmd.msgId, 'Rejected with 483 Too Many Hops due to Max-Forwards value of 0'));
      return;
    }
    const app = parseAppMessage(cmd.sip, this.deps.preserveHeaderNames);
    const provisionalTimeoutMs = parseProxyTimeout(cmd.provisionalTimeout);
    this.run({ msgId: cmd.msgId, conn, txn, req, flow }, app?.headers ?? [], {
      remainInDialog: cmd.remainInDialog,
      fullResponse: cmd.fullResponse,
      followRedirects: cmd.followRedirects,
      simultaneous: cmd.simultaneous,
      destinations: cmd.destinations,
      ...(provisionalTimeoutMs !== undefined && provisionalTimeoutMs > 0 ? { provisionalTimeoutMs } : {}),
    });
  }

  /**
   * Proxy a new request that no app owns: the HTTP request handler answered `proxy`
   * (drachtio-protocol §6). The operation runs exactly as for an app, but its `continue`/`done`
   * frames go to a connection that is already closed, i.e. nowhere.
   */
  proxyWithoutApp(txn: ServerTxn, opts: Omit<ProxyOptions, 'fullResponse'>): void {
    if (this.tooManyHops(txn, txn.request)) return;
    this.run({ msgId: '', conn: nowhere, txn, req: txn.request, flow: txn.flow }, [], { ...opts, fullResponse: true });
  }

  /** RFC 3261 §16.3 step 3: answers 483 (and reports the CDR) when Max-Forwards is used up. */
  private tooManyHops(txn: ServerTxn, req: SipRequest): boolean {
    if (effectiveMaxForwards(req) > 0) return false;
    const res = buildResponse(req, 483, 'Too Many Hops', { toTag: uuid().slice(0, 8) });
    if (req.method !== 'ACK') txn.respond(res);
    if (req.method === 'INVITE') this.deps.cdr('stop', 'application', res, 'call-rejected');
    return true;
  }

  private run(src: ProxySource, appHeaders: readonly SipHeader[], options: ProxyOptions): void {
    const { txn, req, flow } = src;
    const local = this.deps.local;
    const listener = local.listenerFor(flow.protocol, familyOf(flow.local.address));
    const base = prepareForward(req, appHeaders, local, listener);
    const pinned = this.pins.take(req);
    const opts = pinned !== undefined ? { ...options, destinations: [pinned] } : options;
    const branch = topVia(req)?.branch;
    const inviteBranch = req.method === 'INVITE' ? branch : undefined;
    const op = new ProxyOperation(this.deps, src, opts, base, this.pins, requestUriIsOurs(req, local), () => this.linger(entry));
    const entry: Registered = { op, serverTxnId: txn.id, ...(inviteBranch !== undefined ? { inviteBranch } : {}) };
    this.byServerTxn.set(txn.id, entry);
    if (inviteBranch !== undefined) this.byInviteBranch.set(inviteBranch, entry);
    entry.op.start();
  }

  routeInDialog(req: SipRequest, flow: Flow): boolean {
    return this.relay.route(req, flow);
  }

  relayStrayResponse(res: SipResponse, flow: Flow): boolean {
    return this.relay.response(res, flow);
  }

  /**
   * A CANCEL matched an INVITE server transaction (RFC 3261 §9.2, §16.10). When that INVITE is one
   * we proxy: 200 to the CANCEL, 487 upstream, CANCEL every branch. False when it is not ours (the
   * core handles it).
   */
  cancel(cancelTxn: ServerTxn, inviteTxn: ServerTxn): boolean {
    const entry = this.byServerTxn.get(inviteTxn.id);
    if (!entry) return false;
    cancelTxn.respond(buildResponse(cancelTxn.request, 200, 'OK', { toTag: uuid().slice(0, 8) }));
    entry.op.cancelFromUpstream(cancelTxn.request);
    return true;
  }

  /** Live state, for leak checks. */
  size(): { operations: number; challenges: number } {
    return { operations: this.byServerTxn.size, challenges: this.pins.size };
  }

  /**
   * An operation has ended; keep it 64·T1 longer (the lifetime of its server transaction) so that
   * a retransmitted CANCEL is still answered and a non-2xx ACK is still recognised.
   */
  private linger(entry: Registered): void {
    this.deps.clock.setTimeout(() => {
      this.byServerTxn.delete(entry.serverTxnId);
      if (entry.inviteBranch !== undefined && this.byInviteBranch.get(entry.inviteBranch) === entry) {
        this.byInviteBranch.delete(entry.inviteBranch);
      }
    }, this.deps.t1x64);
  }
}
