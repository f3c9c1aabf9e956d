import { buildResponse } from '../message/response.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import { responseNok } from '../wire/meta.js';
import { parseAppMessage } from './app-message.js';
import { AppRequests } from './app-requests.js';
import { AppResponses } from './app-responses.js';
import { CoreContext } from './context.js';
import { DialogTimers } from './dialog-timers.js';
import { NetworkRequests } from './network-requests.js';
import type { AppConnection, CoreDeps, ServerTxn } from './ports.js';
import type { DialogRuntime } from './state.js';
import { UacResponses } from './uac-responses.js';

/** What the transaction layer made of a request from the network, as far as the core cares. */
export type NetworkRequestEvent =
  | { kind: 'new'; txn: ServerTxn; receivedOn: { host: string; port: number } }
  | { kind: 'ack'; req: SipRequest; flow: Flow }
  | { kind: 'cancel'; cancel: ServerTxn; invite?: ServerTxn }
  | { kind: 'merged'; txn: ServerTxn };

/** A `sip` command from an app (drachtio-protocol §3.1). */
export interface AppSipCommand {
  msgId: string;
  transactionId: string;
  dialogId: string;
  routeUri?: string;
  sip: string;
}

/**
 * The drachtio semantics core: turns network requests into `sip` messages for apps, and apps'
 * `sip` commands into responses and requests on the network, keeping transactions, dialogs and
 * timers straight in between (drachtio-protocol §3–§5). Transport, parsing, transaction matching
 * and the admin socket live below it; the stateful proxy beside it.
 */
export class EngineCore {
  readonly ctx: CoreContext;
  private readonly timers: DialogTimers;
  private readonly network: NetworkRequests;
  private readonly responses: AppResponses;
  private readonly uacResponses: UacResponses;
  private readonly requests: AppRequests;

  constructor(deps: CoreDeps) {
    this.ctx = new CoreContext(deps);
    this.timers = new DialogTimers(this.ctx);
    this.network = new NetworkRequests(this.ctx);
    this.timers.onPrackTimeout = (inbound) => this.network.onPrackTimeout(inbound);
    this.responses = new AppResponses(this.ctx, this.timers);
    this.uacResponses = new UacResponses(this.ctx, this.timers);
    this.requests = new AppRequests(this.ctx, this.timers, this.uacResponses);
  }

  /** Entry point for requests from the network, after parsing, validation and transaction matching. */
  onNetworkRequest(ev: NetworkRequestEvent): void {
    switch (ev.kind) {
      case 'new':
        return this.network.onNew(ev.txn, ev.receivedOn);
      case 'ack':
        return this.network.onAck(ev.req, ev.flow);
      case 'cancel':
        return this.network.onCancel(ev.cancel, ev.invite);
      case 'merged':
        // RFC 3261 §8.2.2.2: the same request reached us twice by different paths.
        return ev.txn.respond(buildResponse(ev.txn.request, 482, 'Loop Detected', { toTag: 'merged' }));
    }
  }

  /** A `sip` command from an app: one of the four variants of drachtio-protocol §3.1. */
  onAppSip(conn: AppConnection, cmd: AppSipCommand): void {
    const msg = parseAppMessage(cmd.sip, this.ctx.deps.config.preserveHeaderNames);
    if (!msg) return conn.send(responseNok(cmd.msgId, 'invalid SIP message'));
    const fail = (err: unknown): void => {
      this.ctx.deps.log.error({ err, msgId: cmd.msgId }, 'app sip command failed');
      conn.send(responseNok(cmd.msgId, (err as Error)?.message ?? 'internal error'));
    };
    try {
      if (msg.type === 'response') {
        if (!cmd.transactionId) return conn.send(responseNok(cmd.msgId, 'Response not sent due to unknown transaction'));
        return this.responses.onResponse(conn, cmd.msgId, cmd.transactionId, msg as SipResponse);
      }
      if (cmd.dialogId) {
        this.requests.inDialog(conn, cmd.msgId, cmd.dialogId, msg).catch(fail);
      } else if (cmd.transactionId && msg.method === 'CANCEL') {
        this.requests.cancel(conn, cmd.msgId, cmd.transactionId, msg);
      } else {
        this.requests.newRequest(conn, cmd.msgId, msg, cmd.routeUri).catch(fail);
      }
    } catch (err) {
      fail(err);
    }
  }

  /**
   * An app connection closed (drachtio-protocol §4.1): its dialogs stay until they end but get 481
   * for in-dialog requests, and requests still waiting for it are answered by the engine.
   */
  onAppClosed(conn: AppConnection): void {
    for (const d of this.ctx.dialogs.values()) if (d.owner.id === conn.id) d.orphaned = true;
    for (const t of [...this.ctx.inbound.values()]) {
      if (t.owner.id !== conn.id || t.answered === 'final') continue;
      if (t.req.method !== 'ACK') t.txn.respond(buildResponse(t.req, 480, 'Temporarily Unavailable', { toTag: t.toTag ?? 'gone' }));
      t.answered = 'final';
      this.ctx.finishInbound(t);
    }
    for (const [id, o] of this.ctx.outbound) if (o.owner.id === conn.id && o.finalStatus !== undefined) this.ctx.outbound.delete(id);
  }

  /** The dialog a network request belongs to, for layers that must decide before the core (proxy). */
  findDialog(req: SipRequest): DialogRuntime | undefined {
    return this.network.findDialog(req);
  }

  /** Counts of live state, for leak checks in tests and benchmarks. */
  size(): { inbound: number; outbound: number; dialogs: number } {
    return { inbound: this.ctx.inbound.size, outbound: this.ctx.outbound.size, dialogs: this.ctx.dialogs.size };
  }
}
