import { addHeader, getHeader } from '../message/headers.js';
import { isSipUri, parseUri } from '../message/uri.js';
import { parseVia } from '../message/via.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';
import { sipUnsolicitedBye } from '../wire/meta.js';
import { supportsOption } from './build.js';
import type { CoreContext } from './context.js';
import { buildInDialogRequest, dialogDestination, sendAckFor2xx } from './in-dialog-request.js';
import { familyOf, normalizeHost } from './local-address.js';
import type { InviteServerTxn } from './ports.js';
import type { DialogRuntime, InboundTxn } from './state.js';

/** RFC 4028 §4: the smallest session interval we run a timer for. */
const MIN_SE = 90;

/**
 * Everything in a dialog that runs on a timer: 2xx retransmission until ACK and the ACK-timeout BYE
 * (RFC 3261 §13.3.1.4, drachtio-protocol §4.3), reliable provisional retransmission (RFC 3262 §3),
 * session timers (RFC 4028, drachtio §4.10), and the BYEs the engine sends on its own.
 */
export class DialogTimers {
  /**
   * RFC 3262 §3: a reliable provisional never PRACKed within 64·T1 ends the INVITE with a 5xx;
   * set by the network side, which owns answering the INVITE and telling the app.
   */
  onPrackTimeout?: (inbound: InboundTxn) => void;

  constructor(private readonly ctx: CoreContext) {}

  private get clock() {
    return this.ctx.deps.clock;
  }
  private get t() {
    return this.ctx.deps.timers;
  }

  /** Where responses to this inbound request go (RFC 3261 §18.2.2, RFC 3581 §4). */
  responseDest(inbound: InboundTxn): Destination {
    const via = parseVia(getHeader(inbound.req, 'via') ?? '')?.[0];
    if (!via) return { protocol: inbound.flow.protocol, address: inbound.flow.remote.address, port: inbound.flow.remote.port };
    return this.ctx.deps.responseDestination(via, inbound.flow);
  }

  /** UAS: the transaction retransmits the 2xx until the ACK; 64·T1 without one ends the call (§4.3). */
  awaitAck(d: DialogRuntime, inbound: InboundTxn): void {
    const txn = inbound.txn as InviteServerTxn;
    const cseq = Number.parseInt(getHeader(inbound.req, 'cseq') ?? '', 10);
    const state = { cseq, txn };
    d.awaitingAck = state;
    txn.retransmit2xxUntilAck(() => {
      if (d.awaitingAck !== state) return;
      d.awaitingAck = undefined;
      this.sendBye(d, 'SIP ;cause=200 ;text="ACK timeout"', 'ack-timeout');
    });
  }

  /** RFC 3262 §3: retransmit a reliable provisional at T1, doubling, until PRACKed or 64·T1. */
  startReliableProvisional(inbound: InboundTxn, res: SipResponse): void {
    const rseq = Number.parseInt(getHeader(res, 'rseq') ?? '', 10);
    const dest = this.responseDest(inbound);
    this.clock.clearTimeout(inbound.reliable?.timer);
    const rel = { rseq, response: res, bytes: serializeMessage(res), dest, interval: this.t.t1, startedAt: this.clock.now() } as NonNullable<InboundTxn['reliable']>;
    inbound.reliable = rel;
    // Over TCP/TLS/WS nothing is retransmitted, but the PRACK is still due within 64·T1.
    const reliableTransport = this.ctx.deps.sender.isReliable(dest.protocol);
    const tick = (): void => {
      if (inbound.reliable !== rel || inbound.answered === 'final') return;
      if (reliableTransport || this.clock.now() - rel.startedAt >= this.t.t1x64) {
        inbound.reliable = undefined;
        this.ctx.deps.log.warn({ txnId: inbound.txnId }, 'reliable provisional response was never PRACKed');
        this.onPrackTimeout?.(inbound);
        return;
      }
      this.ctx.sendRaw(rel.bytes, rel.dest);
      rel.interval *= 2;
      // The last wait is cut short so that the 64·T1 limit is checked on time.
      const left = this.t.t1x64 - (this.clock.now() - rel.startedAt);
      rel.timer = this.clock.setTimeout(tick, Math.min(rel.interval, left));
    };
    rel.timer = this.clock.setTimeout(tick, reliableTransport ? this.t.t1x64 : rel.interval);
  }

  /** drachtio-protocol §4.6: UAS dialogs over UDP whose Contact differs from the packet source. */
  setNatRoute(d: DialogRuntime, flow: Flow): void {
    if (flow.protocol !== 'udp') return;
    const uri = parseUri(d.remoteTarget);
    if (!isSipUri(uri)) return;
    const port = uri.port ?? 5060;
    if (normalizeHost(uri.host) !== normalizeHost(flow.remote.address) || port !== flow.remote.port) {
      d.natRoute = { protocol: 'udp', address: flow.remote.address, port: flow.remote.port };
    }
  }

  /**
   * Session timer on a 2xx we send (RFC 4028 §9): the app's Session-Expires wins; otherwise the
   * UAC's offer is accepted with its refresher (uac by default); otherwise `default-refresher`.
   */
  applySessionTimerOnUasAnswer(d: DialogRuntime, req: SipRequest, res: SipResponse): void {
    let se = parseSessionExpires(getHeader(res, 'session-expires'));
    if (!se) {
      const offered = parseSessionExpires(getHeader(req, 'session-expires'));
      const fallback = this.ctx.deps.config.defaultRefresher;
      if (offered) se = { interval: offered.interval, refresher: offered.refresher ?? 'uac' };
      else if (fallback !== 'none' && supportsOption(req, 'timer')) se = { interval: 1800, refresher: fallback };
      if (!se) return;
      addHeader(res, 'session-expires', `${se.interval};refresher=${se.refresher}`);
      if (supportsOption(req, 'timer')) addHeader(res, 'require', 'timer');
    }
    this.armSessionTimer(d, se.interval, se.refresher === 'uas' ? 'local' : 'remote');
  }

  /** Session timer on a 2xx we receive for our INVITE (RFC 4028 §7.2). */
  applySessionTimerOnUacAnswer(d: DialogRuntime, res: SipResponse): void {
    const se = parseSessionExpires(getHeader(res, 'session-expires'));
    if (!se) return;
    this.armSessionTimer(d, se.interval, (se.refresher ?? 'uac') === 'uac' ? 'local' : 'remote');
  }

  armSessionTimer(d: DialogRuntime, interval: number, refresher: 'local' | 'remote'): void {
    this.clock.clearTimeout(d.sessionTimerHandle);
    if (interval < MIN_SE) interval = MIN_SE;
    d.sessionTimer = { interval, refresher };
    if (refresher === 'local') {
      d.sessionTimerHandle = this.clock.setTimeout(() => this.refresh(d), (interval * 1000) / 2);
    } else {
      const margin = Math.min(32, interval / 3);
      d.sessionTimerHandle = this.clock.setTimeout(
        () => this.sendBye(d, 'SIP ;cause=200 ;text="Session timer expired"', 'session-expired'),
        (interval - margin) * 1000,
      );
    }
  }

  /** We are the refresher: re-INVITE with the last SDP we sent (drachtio-protocol §4.10). */
  private refresh(d: DialogRuntime): void {
    if (!this.ctx.dialogs.has(d.id) || !d.sessionTimer) return;
    const interval = d.sessionTimer.interval;
    const body = Buffer.from(d.localSdp ?? '', 'utf8');
    const req = buildInDialogRequest(this.ctx, d, 'INVITE', { uri: 'sip:placeholder', headers: [], body });
    if (typeof req === 'string') return;
    // RFC 4028 §7.4: uac/uas name the roles in this refresh transaction, whose UAC we are, whichever
    // side created the dialog; 'uas' here would hand the refreshing over to the peer.
    addHeader(req, 'session-expires', `${interval};refresher=uac`);
    addHeader(req, 'supported', 'timer');
    d.refreshing = true;
    void dialogDestination(d).then((dest) => {
      const sentBy = this.ctx.localFor(dest.protocol, familyOf(dest.address));
      const txn = this.ctx.deps.transactions.sendRequest(req, dest, {
        onResponse: (res) => {
          if (res.status < 200) return;
          d.refreshing = false;
          if (res.status < 300) {
            const ack = buildInDialogRequest(this.ctx, d, 'ACK');
            if (typeof ack !== 'string') {
              ack.headers = ack.headers.filter((h) => h.name !== 'cseq');
              addHeader(ack, 'cseq', `${Number.parseInt(getHeader(txn.request, 'cseq') ?? '0', 10)} ACK`);
              sendAckFor2xx(this.ctx, ack, dest);
            }
            this.armSessionTimer(d, interval, 'local');
          } else if (res.status === 491) this.armSessionTimer(d, interval, 'local');
          else this.sendBye(d, 'SIP ;cause=200 ;text="Session refresh failed"', 'session-expired');
        },
        onFailure: () => {
          d.refreshing = false;
          this.sendBye(d, 'SIP ;cause=200 ;text="Session refresh failed"', 'session-expired');
        },
      }, { sentBy: { ...sentBy, protocol: dest.protocol } });
    }).catch((err: unknown) => {
      d.refreshing = false;
      this.ctx.deps.log.warn({ err, dialogId: d.id }, 'session refresh failed');
    });
  }

  /**
   * A BYE the engine sends on its own (drachtio-protocol §4.10): to the peer with a Reason header,
   * to the app as an unsolicited BYE, then the dialog is gone.
   */
  sendBye(d: DialogRuntime, reason: string, cdrReason: string): void {
    if (!this.ctx.dialogs.has(d.id)) return;
    this.ctx.removeDialog(d.id);
    const bye = buildInDialogRequest(this.ctx, d, 'BYE');
    if (typeof bye === 'string') return;
    addHeader(bye, 'reason', reason);
    void dialogDestination(d).then((dest) => {
      const local = this.ctx.localFor(dest.protocol, familyOf(dest.address));
      const txn = this.ctx.deps.transactions.sendRequest(bye, dest, { onResponse: () => {}, onFailure: () => {} }, { sentBy: { ...local, protocol: dest.protocol } });
      if (!d.orphaned) d.owner.send(sipUnsolicitedBye({ protocol: dest.protocol, localHost: local.host, localPort: local.port, dialogId: d.id }, this.ctx.text(txn.request)));
      this.ctx.cdr('stop', 'application', txn.request, cdrReason);
    }).catch((err: unknown) => this.ctx.deps.log.warn({ err, dialogId: d.id }, 'could not send BYE'));
  }
}

/** `Session-Expires: 1800;refresher=uac` (RFC 4028 §4). */
export function parseSessionExpires(value: string | undefined): { interval: number; refresher?: 'uac' | 'uas' } | undefined {
  if (!value) return undefined;
  const interval = Number.parseInt(value, 10);
  if (!Number.isFinite(interval) || interval <= 0) return undefined;
  const r = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(value)?.[1]?.toLowerCase();
  return r === 'uac' || r === 'uas' ? { interval, refresher: r } : { interval };
}
