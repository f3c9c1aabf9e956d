import { familyOf } from '../core/local-address.js';
import type { ResolvedTarget } from '../core/resolver.js';
import { getHeader } from '../message/headers.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { Flow } from '../transport/types.js';
import { chooseBest, type CollectedFinal } from './best-response.js';
import { isActive, isOutstanding, newBranch, type Branch } from './branch.js';
import type { ChallengePins } from './challenge-pins.js';
import { branchRequest, redirectTargets } from './forward-request.js';
import { recordRouteFor } from './record-route.js';
import { isOurUri } from './route-set.js';
import type { ProxyDeps, ProxyOptions, ProxySource } from './types.js';
import { Upstream } from './upstream.js';

/** Bound on targets per operation, redirects included: a redirect loop must end. */
const MAX_BRANCHES = 20;

interface Received {
  res: SipResponse;
  flow: Flow;
}

/**
 * One `proxy` command: a stateful, forking proxy operation (RFC 3261 §16, drachtio-protocol §4.9).
 *
 * The server transaction of the received request stays with us; each target gets a branch with
 * its own client transaction. 100 is absorbed, other 1xx go upstream at once, the first 2xx goes
 * upstream at once and the other branches are CANCELled, non-2xx finals (already ACKed by the
 * transaction layer) are collected and the best is sent when no branch is left (§16.7). Every
 * final a branch receives is reported to the app as a `continue` frame, and `done` ends the
 * operation for srf. Reliable provisionals pass with their RSeq untouched: each branch is its own
 * early dialog at the UAC (a different To tag), whose RSeq space is separate (RFC 3262 §4), and the
 * PRACK follows our Record-Route back through the stateless relay unchanged.
 */
export class ProxyOperation {
  private readonly branches: Branch[];
  private readonly finals: CollectedFinal<Received>[] = [];
  private readonly isInvite: boolean;
  private readonly up: Upstream;
  private seq = 0;
  /** Still looking for an answer; false after a 2xx, a challenge, the best response, or a CANCEL. */
  private searching = true;
  private cancelledUpstream = false;
  private everStarted = false;
  private finishedReported = false;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    private readonly deps: ProxyDeps,
    private readonly src: ProxySource,
    private readonly opts: ProxyOptions,
    private readonly base: SipRequest,
    private readonly pins: ChallengePins,
    /** Whether the Request-URI pointed at us (then each branch gets the target as its R-URI). */
    private readonly replaceUri: boolean,
    /** Called once when `done` was sent and no branch is outstanding. */
    private readonly onFinished: () => void,
  ) {
    this.isInvite = src.req.method === 'INVITE';
    this.up = new Upstream(deps, src);
    this.branches = opts.destinations.slice(0, MAX_BRANCHES).map(newBranch);
  }

  start(): void {
    this.pump();
  }

  /** CANCEL from upstream (RFC 3261 §16.10): 487 upstream, CANCEL every branch; `done` follows their finals. */
  cancelFromUpstream(cancel: SipRequest): void {
    if (this.up.final !== 'none') return;
    this.cancelledUpstream = true;
    const reason = getHeader(cancel, 'reason');
    this.up.generate(487, 'Request Terminated');
    this.stopSearch(reason ? [['Reason', reason]] : []);
    this.pump();
  }

  // ---------------------------------------------------------------------------------------------
  // launching branches

  /** Launch what the forking mode allows, detect exhaustion and the end; safe to call re-entrantly. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    if (this.searching) {
      for (const b of this.branches) {
        if (!this.opts.simultaneous && this.branches.some(isActive)) break;
        if (b.state === 'waiting') this.launch(b);
      }
      if (this.searching && !this.branches.some((b) => isActive(b) || b.state === 'waiting')) this.exhausted();
    }
    if (!this.searching && !this.up.ended && this.cancelledUpstream && !this.branches.some(isOutstanding)) this.up.done();
    if (this.up.ended && !this.searching && !this.finishedReported && !this.branches.some(isOutstanding)) {
      this.finishedReported = true;
      this.onFinished();
    }
  }

  private launch(b: Branch): void {
    b.state = 'starting';
    let resolved: ResolvedTarget | Promise<ResolvedTarget>;
    try {
      resolved = this.deps.resolve(b.target);
    } catch (err) {
      return this.startFailed(b, err);
    }
    if (resolved instanceof Promise) {
      resolved.then(
        (dest) => {
          this.send(b, dest);
          this.pump();
        },
        (err: unknown) => {
          this.startFailed(b, err);
          this.pump();
        },
      );
    } else this.send(b, resolved);
  }

  private send(b: Branch, dest: ResolvedTarget): void {
    if (b.state !== 'starting') return; // given up while resolving
    const { local } = this.deps;
    if (isOurUri(b.target, local) || local.isLocal(dest.address, dest.port, dest.protocol)) {
      return this.startFailed(b, new Error(`can not send request to myself: ${b.target}`));
    }
    const out = local.listenerFor(dest.protocol, familyOf(dest.address));
    if (!out) return this.startFailed(b, new Error(`no ${dest.protocol} transport for ${b.target}`));
    const inbound = local.listenerFor(this.src.flow.protocol, familyOf(this.src.flow.local.address));
    const rr = this.opts.remainInDialog ? recordRouteFor(inbound, out) : [];
    const req = branchRequest(this.base, b.target, { replaceUri: this.replaceUri, recordRoute: rr });
    const sentBy = { protocol: dest.protocol, host: out.spec.advertisedHost, port: out.local.port };
    try {
      b.txn = this.deps.transactions.sendRequest(req, dest, {
        onResponse: (res, flow) => this.onResponse(b, res, flow),
        onFailure: (reason) => this.onFailure(b, reason),
      }, { sentBy });
    } catch (err) {
      return this.startFailed(b, err);
    }
    b.state = 'calling';
    b.dest = dest;
    this.everStarted = true;
    if (!this.opts.fullResponse) this.up.release();
    const clock = this.deps.clock;
    if (this.opts.provisionalTimeoutMs !== undefined) {
      b.provisionalTimer = clock.setTimeout(() => this.onProvisionalTimeout(b), this.opts.provisionalTimeoutMs);
    }
    if (this.isInvite) {
      b.timerC = clock.setTimeout(() => this.onTimerC(b), this.deps.timerC);
      this.deps.cdr('attempt', 'application', b.txn.request);
    }
  }

  private startFailed(b: Branch, err: unknown): void {
    this.deps.log.warn({ err, target: b.target }, 'proxy branch could not start');
    b.state = 'completed';
  }

  // ---------------------------------------------------------------------------------------------
  // responses of a branch

  private onResponse(b: Branch, res: SipResponse, flow: Flow): void {
    if (res.status < 200) this.onProvisional(b, res);
    else if (res.status < 300) this.on2xx(b, res, flow);
    else this.onFailureResponse(b, res, flow);
    this.pump();
  }

  private onProvisional(b: Branch, res: SipResponse): void {
    this.deps.clock.clearTimeout(b.provisionalTimer);
    if (b.state === 'calling') b.state = 'proceeding';
    if (b.abandoned || res.status === 100) return; // RFC 3261 §16.7 step 5: 100 is not forwarded
    if (this.isInvite) {
      // §16.7 step 2: Timer C restarts with every provisional other than 100
      this.deps.clock.clearTimeout(b.timerC);
      b.timerC = this.deps.clock.setTimeout(() => this.onTimerC(b), this.deps.timerC);
    }
    if (this.up.final === 'none') this.up.forward(res);
  }

  private on2xx(b: Branch, res: SipResponse, flow: Flow): void {
    this.endBranch(b);
    if (this.up.final === 'failure') {
      this.deps.log.info({ target: b.target, status: res.status }, 'proxy: 2xx after a failure went upstream, dropped');
      return;
    }
    // RFC 3261 §16.7 step 10, RFC 6026 §8: later 2xx (retransmissions, other forks) go upstream too
    if (this.up.final === '2xx') {
      this.up.forward(res);
      return;
    }
    this.up.report(res, flow);
    if (this.isInvite) this.deps.cdr('start', 'network', res, 'proxy-uac');
    this.up.sendFinal(res);
    this.stopSearch([]);
    this.up.done();
  }

  private onFailureResponse(b: Branch, res: SipResponse, flow: Flow): void {
    if (b.state === 'completed' && !b.abandoned) return;
    const abandoned = b.abandoned;
    this.endBranch(b);
    this.up.report(res, flow);
    if (this.isInvite) this.deps.cdr('stop', 'network', res, res.status === 487 ? 'call-canceled' : 'call-rejected');
    if (abandoned || !this.searching) return;
    this.finals.push({ status: res.status, seq: this.seq++, value: { res, flow } });
    if ((res.status === 401 || res.status === 407) && this.pins.remember(res, b.target)) {
      // drachtio-protocol §4.9 step 4: a challenge ends the search; the retry will be pinned here
      this.stopSearch([]);
      this.forwardBest();
      return;
    }
    if (res.status < 400 && this.opts.followRedirects) this.addRedirectTargets(b, res);
  }

  /** The transaction failed (Timer B/F or transport): RFC 3261 §16.7 treats it as a 408/503 of our own. */
  private onFailure(b: Branch, reason: 'timeout' | 'transport-error'): void {
    if (b.state === 'completed') return;
    this.deps.log.info({ target: b.target, reason }, 'proxy branch failed');
    this.endBranch(b);
    this.pump();
  }

  private onProvisionalTimeout(b: Branch): void {
    if (b.state !== 'calling') return;
    this.deps.log.info({ target: b.target }, 'proxy: no provisional response in time, next target');
    this.abandon(b, []);
    this.pump();
  }

  /** RFC 3261 §16.8: Timer C fired; CANCEL the branch, treat it as a 408 of our own. */
  private onTimerC(b: Branch): void {
    if (!isOutstanding(b)) return;
    this.deps.log.info({ target: b.target }, 'proxy: Timer C fired, branch cancelled');
    this.abandon(b, []);
    this.pump();
  }

  /** Turn each 3xx Contact into a new target right after the redirected one (drachtio-protocol §4.9). */
  private addRedirectTargets(b: Branch, res: SipResponse): void {
    const known = new Set(this.branches.map((x) => x.target));
    const fresh = redirectTargets(res, known, MAX_BRANCHES - this.branches.length).map(newBranch);
    this.branches.splice(this.branches.indexOf(b) + 1, 0, ...fresh);
  }

  // ---------------------------------------------------------------------------------------------
  // ending

  private endBranch(b: Branch): void {
    b.state = 'completed';
    this.deps.clock.clearTimeout(b.provisionalTimer);
    this.deps.clock.clearTimeout(b.timerC);
  }

  /** Give up on a branch: CANCEL it (queued by the transaction layer until a provisional arrives). */
  private abandon(b: Branch, reason: Array<[string, string]>): void {
    b.abandoned = true;
    this.deps.clock.clearTimeout(b.provisionalTimer);
    this.deps.clock.clearTimeout(b.timerC);
    // drachtio: a branch that never answered is simply dropped; one that did waits for its 487
    if (b.state !== 'proceeding') b.state = 'completed';
    b.txn?.cancel?.(reason);
  }

  private stopSearch(reason: Array<[string, string]>): void {
    this.searching = false;
    for (const b of this.branches) {
      if (b.state === 'waiting') b.state = 'completed';
      else if (isActive(b)) this.abandon(b, reason);
    }
  }

  /** All targets are exhausted: the best final upstream, 408 if there is none (RFC 3261 §16.7 step 6). */
  private exhausted(): void {
    this.searching = false;
    if (!this.everStarted) {
      this.up.generate(500, 'Server Internal Error');
      this.up.nok(`error proxying request to ${this.opts.destinations.join(',')}`);
      return;
    }
    this.forwardBest();
  }

  private forwardBest(): void {
    this.searching = false;
    if (this.up.final === 'none') {
      const best = chooseBest(this.finals, this.opts.followRedirects);
      if (best) this.up.sendFinal(best.value.res);
      else this.up.generate(408, 'Request Timeout');
    }
    this.up.done();
  }
}
