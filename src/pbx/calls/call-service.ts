import type { CallParty, HoldInitiator } from '../../events/pbx-events.js';
import { uuid } from '../../shared/ids.js';
import type { CallLegs } from '../../sip/calls/index.js';
import { closeInterruptedCalls, createCall, finishCall, markCallTransferred, updateCallState } from '../../store/index.js';
import type { ApplyResult, CallServiceOptions, LiveCall, LiveCallView, StartCallInput, StartCallResult } from './call-service.types.js';
import { eventForFinalStatus, hangupCauseOf, isFinalCallState, reduceCallState, type CallEvent } from './call-state.js';
import { PresenceTracker } from './presence-tracker.js';

export type { ApplyResult, CallServiceOptions, LiveCallView, StartCallInput, StartCallResult } from './call-service.types.js';

/**
 * Owns the live calls: every state change of a call goes through {@link CallService.apply}, which
 * runs the state machine, persists the change, and publishes it. Knows nothing of SIP: the adapter
 * in src/sip/calls translates messages into {@link CallEvent}s and back.
 */
export class CallService {
  private readonly calls = new Map<string, LiveCall>();
  private readonly presence: PresenceTracker;

  constructor(private readonly opts: CallServiceOptions) {
    this.presence = new PresenceTracker({ bus: opts.bus, clock: opts.clock, ...(opts.outbox && { outbox: opts.outbox }) });
  }

  /** Close the calls a previous run of this instance left open (crash recovery, issue 4 §6). */
  async recoverInterruptedCalls(): Promise<number> {
    const outbox = this.opts.outbox;
    const closed = await closeInterruptedCalls(this.opts.db, { instanceId: this.opts.instanceId, now: this.isoNow(), ...(outbox && { events: outbox.ended }) });
    if (closed > 0) outbox?.committed();
    if (closed > 0) this.opts.log.warn({ closed }, 'closed calls a previous run left open (disposition interrupted)');
    return closed;
  }

  /**
   * Start a call: persist it (INITIATED), publish call.start, arm the ring timer. A caller already
   * at its limit is refused (403, FAILED); a callee at its limit is busy (486, BUSY).
   */
  async startCall(input: StartCallInput): Promise<StartCallResult> {
    const id = uuid();
    const startedAt = this.isoNow();
    const outbox = this.opts.outbox;
    const startEvents = outbox ? await outbox.start({ callId: id, tenantId: input.tenantId, direction: input.direction, caller: input.caller, callee: input.callee, siteId: input.siteId ?? null, startedAt }) : [];
    await createCall(this.opts.db, {
      id,
      tenantId: input.tenantId,
      direction: input.direction,
      callerNumber: input.caller.number,
      callerName: input.caller.name,
      calleeNumber: input.callee.number,
      calleeName: input.callee.name,
      callerExtensionId: input.caller.extensionId,
      calleeExtensionId: input.callee.extensionId,
      siteId: input.siteId ?? null,
      sipCallId: input.sipCallId ?? null,
      instanceId: this.opts.instanceId,
      startedAt,
    }, startEvents);
    outbox?.committed();
    const extensionIds = [input.caller.extensionId, input.callee.extensionId].filter((e): e is string => e !== null);
    const call: LiveCall = {
      id, tenantId: input.tenantId, direction: input.direction, state: 'INITIATED', caller: input.caller, callee: input.callee, startedAt, answeredAt: null,
      extensionIds, answeredExtensionId: null, heldBy: new Set(), queue: Promise.resolve(), tracked: false,
      ...(input.onRingTimeout ? { onRingTimeout: input.onRingTimeout } : {}),
      ...(input.onAbort ? { onAbort: input.onAbort } : {}),
    };
    const refusal = this.refusal(input);
    this.calls.set(id, call);
    this.opts.bus.emit('call.start', { callId: id, tenantId: input.tenantId, at: startedAt, direction: input.direction, caller: input.caller, callee: input.callee });
    if (refusal !== undefined) {
      const result = await this.apply(id, eventForFinalStatus(refusal));
      return { ok: false, callId: id, state: result.ok ? result.state : 'FAILED', sipStatus: refusal };
    }
    call.tracked = true;
    call.ringTimer = this.opts.clock.setTimeout(() => void this.ringTimedOut(id), input.ringTimeoutMs ?? this.opts.ringTimeoutMs);
    await this.track(call, +1);
    return { ok: true, callId: id };
  }

  /**
   * The call was answered, by `extensionId` when an extension answered (a ring-group member or a
   * forward target counts the call against its limit and presence from now on).
   */
  answer(callId: string, extensionId?: string | null): Promise<ApplyResult> {
    return this.apply(callId, { type: 'answer', ...(extensionId ? { extensionId } : {}) });
  }

  /**
   * Apply one event to a live call, after every earlier event of that call. An event the state
   * machine rejects (a late 200 after CANCEL, a second BYE) changes nothing and is returned as such.
   */
  apply(callId: string, event: CallEvent): Promise<ApplyResult> {
    const call = this.calls.get(callId);
    if (!call) return Promise.resolve({ ok: false, from: 'UNKNOWN', event: event.type });
    const next = call.queue.then(() => this.applyNow(call, event));
    call.queue = next.catch(() => undefined);
    return next;
  }

  /** A snapshot of one live call; undefined once it has ended. */
  get(callId: string): LiveCallView | undefined {
    const call = this.calls.get(callId);
    return call && viewOf(call);
  }

  /** Snapshots of a tenant's live calls, oldest first. */
  list(tenantId: string): LiveCallView[] {
    return [...this.calls.values()].filter((c) => c.tenantId === tenantId).map(viewOf);
  }

  /**
   * End a call that nobody answered yet as CANCELLED (the live-calls API's hang-up of a ringing
   * call), then let the signalling side stop ringing through `onAbort`. False when the call is
   * unknown, already over, or answered meanwhile (then its legs hang it up).
   */
  async abort(callId: string): Promise<boolean> {
    const call = this.calls.get(callId);
    if (!call) return false;
    const result = await this.apply(callId, { type: 'cancel' });
    if (result.ok) call.onAbort?.();
    return result.ok;
  }

  /** The SIP side bridged the call: keep its legs for live call control. Ignored once the call has ended. */
  attachLegs(callId: string, legs: CallLegs): void {
    const call = this.calls.get(callId);
    if (call) call.legs = legs;
  }

  /** The legs of a live, bridged call; undefined before the answer and after the end. */
  legsOf(callId: string): CallLegs | undefined {
    return this.calls.get(callId)?.legs;
  }

  /**
   * The call was put on hold (`on`) or taken off it, by a phone or the API. Hold is not a state of
   * the call machine (an ANSWERED call stays ANSWERED, its CDR counts the held time as talk time,
   * as PBXs usually bill it): it is an event only, published in the call's order.
   */
  held(callId: string, on: boolean, by: HoldInitiator): Promise<void> {
    return this.whileAnswered(callId, async (call) => {
      if (on) call.heldBy.add(by);
      else call.heldBy.delete(by);
      const at = this.isoNow();
      // Nothing is stored for a hold, so its outbox row is a transaction of its own.
      const outbox = this.opts.outbox;
      if (outbox) await outbox.writeAlone(await outbox.hold(call.tenantId, callId, at, on, by));
      this.opts.bus.emit(on ? 'call.hold' : 'call.unhold', { callId, tenantId: call.tenantId, at, by });
    });
  }

  /** A transfer of this call completed; it ends by its own hang-up, the transferee's new call is `newCallId`. */
  transferred(callId: string, info: { kind: 'blind' | 'attended'; transferor: CallParty | null; target: string; newCallId?: string }): Promise<void> {
    return this.whileAnswered(callId, async (call) => {
      const at = this.isoNow();
      const outbox = this.opts.outbox;
      const events = outbox ? await outbox.transfer(call.tenantId, callId, at, info) : [];
      // Stored before the call ends (the SIP side finishes it right after), so its CDR links the
      // new call; call.transfer commits with the link (issue 5 §2), or alone when there is none.
      if (info.newCallId !== undefined) {
        await markCallTransferred(this.opts.db, callId, info.newCallId, events).then(
          () => outbox?.committed(),
          (err: unknown) => this.opts.log.error({ err, callId }, 'could not record a transfer'),
        );
      } else await outbox?.writeAlone(events);
      this.opts.bus.emit('call.transfer', { callId, tenantId: call.tenantId, at, ...info });
    });
  }

  /** Run `fn` in the call's event order when the call is still live and answered; otherwise nothing. */
  private whileAnswered(callId: string, fn: (call: LiveCall) => void | Promise<void>): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) return Promise.resolve();
    const next = call.queue.then(async () => {
      if (this.calls.has(callId) && call.state === 'ANSWERED') await fn(call);
    });
    call.queue = next.catch(() => undefined);
    return next;
  }

  /** How many live calls an extension is party to now (the limit counts these). */
  activeCallCount(extensionId: string): number {
    return this.presence.activeCallCount(extensionId);
  }

  get liveCallCount(): number {
    return this.calls.size;
  }

  private async applyNow(call: LiveCall, event: CallEvent): Promise<ApplyResult> {
    if (!this.calls.has(call.id)) return { ok: false, from: 'UNKNOWN', event: event.type };
    const transition = reduceCallState(call.state, event);
    if (!transition.ok) {
      this.opts.log.debug({ callId: call.id, from: call.state, event: event.type }, 'call event ignored in this state');
      return transition;
    }
    call.state = transition.state;
    if (!transition.changed) return transition;
    const at = this.isoNow();
    const base = { callId: call.id, tenantId: call.tenantId, at };
    if (isFinalCallState(transition.state)) {
      this.end(call);
      try {
        const cdr = await finishCall(this.opts.db, call.id, { state: transition.state, endedAt: at, hangupCause: hangupCauseOf(event), sipStatus: sipStatusOf(event) }, this.opts.outbox?.ended);
        this.opts.outbox?.committed();
        this.opts.bus.emit('call.ended', {
          ...base, state: transition.state, disposition: cdr.disposition, hangupCause: cdr.hangup_cause, sipStatus: cdr.sip_status,
          durationSeconds: cdr.duration_seconds, billableSeconds: cdr.billable_seconds,
        });
      } catch (err) {
        // The call is over on the wire either way; the open row is closed as interrupted at the next start.
        this.opts.log.error({ err, callId: call.id }, 'could not record the end of a call');
      }
      // After call.ended, so a consumer sees the call end before the extension turns idle.
      if (call.tracked) await this.track(call, -1);
      return transition;
    }
    const answeredBy = event.type === 'answer' ? (event.extensionId ?? null) : null;
    if (transition.state === 'ANSWERED') {
      this.opts.clock.clearTimeout(call.ringTimer);
      call.answeredAt = at;
      call.answeredExtensionId = answeredBy;
      if (answeredBy !== null && call.tracked && !call.extensionIds.includes(answeredBy)) {
        call.extensionIds.push(answeredBy);
        await this.trackOne(call, answeredBy, +1);
      }
    }
    const outbox = this.opts.outbox;
    const events = !outbox ? [] : transition.state === 'ANSWERED' ? await outbox.answered(call.tenantId, call.id, at, answeredBy) : await outbox.ringing(call.tenantId, call.id, at, call.callee.extensionId);
    await updateCallState(this.opts.db, call.id, { state: transition.state, ...(transition.state === 'ANSWERED' ? { answeredAt: at, answeredExtensionId: answeredBy } : {}) }, events).then(
      () => outbox?.committed(),
      (err: unknown) => this.opts.log.error({ err, callId: call.id }, 'could not record a call state change'),
    );
    this.opts.bus.emit(transition.state === 'ANSWERED' ? 'call.answered' : 'call.ringing', base);
    return transition;
  }

  private async ringTimedOut(callId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) return;
    const result = await this.apply(callId, { type: 'noAnswer', sipStatus: 480 });
    if (result.ok) call.onRingTimeout?.();
  }

  private refusal(input: StartCallInput): number | undefined {
    const max = this.opts.maxCallsPerExtension;
    if (input.caller.extensionId !== null && this.activeCallCount(input.caller.extensionId) >= (input.limits?.caller ?? max)) return 403;
    const calleeLimit = input.limits?.callee;
    if (input.callee.extensionId !== null && calleeLimit !== undefined && this.activeCallCount(input.callee.extensionId) >= calleeLimit) return 486;
    return undefined;
  }

  /** Forget a call that reached its final state, before anything awaits, so no later event finds it. */
  private end(call: LiveCall): void {
    this.opts.clock.clearTimeout(call.ringTimer);
    this.calls.delete(call.id);
  }

  /** Counts the call against (+1) or off (-1) its extensions' limits and presence. */
  private track(call: LiveCall, delta: 1 | -1): Promise<void> {
    return this.presence.track(call.tenantId, call.extensionIds, delta);
  }

  private trackOne(call: LiveCall, extensionId: string, delta: 1 | -1): Promise<void> {
    return this.presence.track(call.tenantId, [extensionId], delta);
  }

  private isoNow(): string {
    return new Date(this.opts.clock.now()).toISOString();
  }
}

function viewOf(call: LiveCall): LiveCallView {
  const { id, tenantId, direction, state, caller, callee, startedAt, answeredAt, answeredExtensionId } = call;
  return { id, tenantId, direction, state, caller, callee, startedAt, answeredAt, answeredExtensionId, heldBy: [...call.heldBy] };
}

/** The final SIP status a CDR records for an event: the one the callee side sent, 200 for a BYE after answer, 487 for a CANCEL. */
function sipStatusOf(event: CallEvent): number | null {
  switch (event.type) {
    case 'fail':
    case 'busy':
    case 'noAnswer':
      return event.sipStatus;
    case 'cancel':
      return 487;
    case 'hangup':
      return 200;
    default:
      return null;
  }
}
