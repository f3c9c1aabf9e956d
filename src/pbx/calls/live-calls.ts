/**
 * Live call control (issue 4 §7): what the `/api/v1/calls` routes may do to a tenant's calls —
 * list, read, hang up, hold, unhold, blind transfer, cancel a pending transfer, and originate
 * (click-to-call). Every operation names the tenant, so another tenant's call is "not found" here,
 * in one place, rather than in each route. Outcomes are values; the API maps them to statuses.
 */
import { SwitchboardError } from '../../shared/errors.js';
import type { CallLegs } from '../../sip/calls/index.js';
import type { CallService, LiveCallView } from './call-service.js';

/** Why an operation did not happen. */
export type ControlRefusal =
  /** Unknown, already ended, or another tenant's. */
  | 'not_found'
  /** Hold, unhold and transfer need an answered, bridged call. */
  | 'not_answered'
  /** Cancel-transfer when no transfer is ringing. */
  | 'no_pending_transfer'
  /** A re-INVITE or transfer of the call is under way (glare, RFC 3261 §14.1): try again shortly. */
  | 'busy'
  /** The transfer target could not be rung (`sipStatus`: 404 unknown number, 486 busy…). */
  | 'transfer_failed';

export type ControlResult = { ok: true } | { ok: false; reason: ControlRefusal; sipStatus?: number };

/** The legs' expected refusals (src/sip/calls/call-legs.ts throws them as coded errors) as values. */
function refusalOf(err: unknown): ControlResult | undefined {
  if (!(err instanceof SwitchboardError)) return undefined;
  const sipStatus = err.sipStatus === undefined ? {} : { sipStatus: err.sipStatus };
  if (err.code === 'call.not_found') return { ok: false, reason: 'not_found' };
  if (err.code === 'call.busy') return { ok: false, reason: 'busy', ...sipStatus };
  if (err.code === 'call.transfer_failed') return { ok: false, reason: sipStatus.sipStatus === 491 ? 'busy' : 'transfer_failed', ...sipStatus };
  return undefined;
}

/** What an origination asks for: ring `extensionId`'s phones, then route `to` as if it had dialled it. */
export interface OriginateInput {
  tenantId: string;
  extensionId: string;
  to: string;
  /** The number the destination sees instead of the extension's caller ID. */
  callerId: string | null;
  /** How long the originating extension's phones ring before the call ends unanswered. */
  ringTimeoutMs: number;
}

/** The call as started: refused ones are recorded (with their CDR) and carry the SIP status they ended with. */
export type OriginateOutcome =
  | { ok: true; call: LiveCallView }
  /** `refusedBy`: the originating extension (call limit, no phone registered) or the destination (unknown, busy…). */
  | { ok: false; callId: string; sipStatus: number; refusedBy: 'extension' | 'destination' };

/** The signalling side's click-to-call (src/sip/calls/originate.ts); it opens the call in the call service itself. */
export interface Originator {
  originate(input: OriginateInput): Promise<{ ok: boolean; callId: string; sipStatus?: number; refusedBy?: 'extension' | 'destination' }>;
}

export class LiveCalls {
  private originator: Originator | undefined;

  constructor(private readonly service: CallService) {}

  /** main.ts hands over the SIP side's originator once the INVITE route runs; before that, origination is unavailable. */
  useOriginator(originator: Originator): void {
    this.originator = originator;
  }

  get canOriginate(): boolean {
    return this.originator !== undefined;
  }

  list(tenantId: string): LiveCallView[] {
    return this.service.list(tenantId);
  }

  get(tenantId: string, callId: string): LiveCallView | undefined {
    const call = this.service.get(callId);
    return call?.tenantId === tenantId ? call : undefined;
  }

  /**
   * Hang up: an answered call's legs are both released (COMPLETED); a call still ringing ends as
   * the caller cancelling would (CANCELLED, 487 to the caller, ringing phones CANCELled).
   */
  async hangUp(tenantId: string, callId: string): Promise<ControlResult> {
    const call = this.get(tenantId, callId);
    if (!call) return { ok: false, reason: 'not_found' };
    if (call.state === 'ANSWERED') {
      const legs = this.service.legsOf(callId);
      // Answered but not bridged yet (the caller's 200 is still on its way): a moment later it can be.
      if (!legs) return { ok: false, reason: 'not_answered' };
      legs.hangUp();
      return { ok: true };
    }
    if (await this.service.abort(callId)) return { ok: true };
    // Answered or ended while the abort waited its turn: an answered call is hung up through its legs.
    const legs = this.get(tenantId, callId)?.state === 'ANSWERED' ? this.service.legsOf(callId) : undefined;
    if (!legs) return { ok: false, reason: this.get(tenantId, callId) ? 'not_answered' : 'not_found' };
    legs.hangUp();
    return { ok: true };
  }

  hold(tenantId: string, callId: string): Promise<ControlResult> {
    return this.withLegs(tenantId, callId, (legs) => legs.hold());
  }

  unhold(tenantId: string, callId: string): Promise<ControlResult> {
    return this.withLegs(tenantId, callId, (legs) => legs.unhold());
  }

  transfer(tenantId: string, callId: string, to: string): Promise<ControlResult> {
    return this.withLegs(tenantId, callId, (legs) => legs.transfer(to));
  }

  async cancelTransfer(tenantId: string, callId: string): Promise<ControlResult> {
    let pending = true;
    const result = await this.withLegs(tenantId, callId, async (legs) => {
      pending = await legs.cancelTransfer();
    });
    return result.ok && !pending ? { ok: false, reason: 'no_pending_transfer' } : result;
  }

  /**
   * Click-to-call. Resolves once the call is recorded and the originating phones ring (or the call
   * was refused: unknown destination, call limit, no registered phone); the rest runs on its own
   * and ends with the call's CDR like any other.
   */
  async originate(input: OriginateInput): Promise<OriginateOutcome> {
    if (!this.originator) throw new Error('origination is not available: SIP calls are not running');
    const started = await this.originator.originate(input);
    if (!started.ok) return { ok: false, callId: started.callId, sipStatus: started.sipStatus ?? 500, refusedBy: started.refusedBy ?? 'destination' };
    const call = this.service.get(started.callId);
    // Ended already (every phone refused at once): report it as the extension's refusal, with the call's id.
    if (!call) return { ok: false, callId: started.callId, sipStatus: 480, refusedBy: 'extension' };
    return { ok: true, call };
  }

  private async withLegs(tenantId: string, callId: string, act: (legs: CallLegs) => Promise<void>): Promise<ControlResult> {
    const call = this.get(tenantId, callId);
    if (!call) return { ok: false, reason: 'not_found' };
    const legs = call.state === 'ANSWERED' ? this.service.legsOf(callId) : undefined;
    if (!legs) return { ok: false, reason: 'not_answered' };
    try {
      await act(legs);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) return refusal;
      throw err;
    }
    return { ok: true };
  }
}
