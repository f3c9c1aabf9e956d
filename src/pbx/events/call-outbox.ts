import { makeEvent, type EventEnvelope } from '../../events/envelope.js';
import type { EventType } from '../../events/event-types.js';
import type { CallParty, HoldInitiator } from '../../events/pbx-events.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { appendOutboxEvents, getExtension, inTransaction, type CallDirection, type CallEndEvents, type CdrRow, type Db } from '../../store/index.js';
import { presenceStatusData } from './extension-status.js';
import { TenantExternalIds } from './tenant-external-ids.js';

/** What call.start says about a call. */
export interface CallStartFacts {
  callId: string;
  tenantId: string;
  direction: CallDirection;
  caller: CallParty;
  callee: CallParty;
  siteId: string | null;
  startedAt: string;
}

/** What CallService knows of a completed transfer. */
export interface CallTransferFacts {
  kind: 'blind' | 'attended';
  transferor: CallParty | null;
  target: string;
  newCallId?: string;
}

/**
 * Makes the public envelopes (issue 5 §1) of a call's changes for the call service, which writes
 * them to the outbox in the same transaction as the change, then calls {@link committed} so the
 * dispatcher wakes at once instead of at its next poll. A payload that fails its schema is logged
 * and dropped rather than thrown: a bad event must never cost the call its record.
 */
export class CallOutbox {
  private readonly externalIds: TenantExternalIds;

  constructor(private readonly opts: { db: Db; clock: Clock; log: Logger; onCommitted?: () => void }) {
    this.externalIds = new TenantExternalIds(opts.clock);
  }

  async start(f: CallStartFacts): Promise<EventEnvelope[]> {
    return this.make('call.start', f.tenantId, f.startedAt, {
      call_id: f.callId, direction: f.direction,
      caller_number: f.caller.number, caller_name: f.caller.name, caller_extension_id: f.caller.extensionId,
      callee_number: f.callee.number, callee_name: f.callee.name, callee_extension_id: f.callee.extensionId,
      site_id: f.siteId, started_at: f.startedAt,
    });
  }

  async ringing(tenantId: string, callId: string, at: string, extensionId: string | null): Promise<EventEnvelope[]> {
    return this.make('call.ringing', tenantId, at, { call_id: callId, extension_id: extensionId });
  }

  async answered(tenantId: string, callId: string, at: string, answeredExtensionId: string | null): Promise<EventEnvelope[]> {
    return this.make('call.answered', tenantId, at, { call_id: callId, answered_extension_id: answeredExtensionId, answered_at: at });
  }

  /** call.ended from the CDR row, built inside finishCall's transaction (its lookups use that transaction). */
  readonly ended: CallEndEvents = (cdr: CdrRow, trx: Db) =>
    this.make('call.ended', cdr.tenant_id, cdr.ended_at, {
      call_id: cdr.call_id, cdr_id: cdr.id, direction: cdr.direction,
      caller_number: cdr.caller_number, caller_name: cdr.caller_name, caller_extension_id: cdr.caller_extension_id,
      callee_number: cdr.callee_number, callee_name: cdr.callee_name, callee_extension_id: cdr.callee_extension_id,
      answered_extension_id: cdr.answered_extension_id, site_id: cdr.site_id, sip_call_id: cdr.sip_call_id,
      started_at: cdr.started_at, answered_at: cdr.answered_at, ended_at: cdr.ended_at,
      duration_seconds: cdr.duration_seconds, billable_seconds: cdr.billable_seconds,
      hangup_cause: cdr.hangup_cause, sip_status: cdr.sip_status, disposition: cdr.disposition,
    }, trx);

  /** call.hold (`on`) or call.unhold. */
  async hold(tenantId: string, callId: string, at: string, on: boolean, by: HoldInitiator): Promise<EventEnvelope[]> {
    return this.make(on ? 'call.hold' : 'call.unhold', tenantId, at, { call_id: callId, by });
  }

  /** call.transfer of a completed transfer (see CallTransferData). */
  async transfer(tenantId: string, callId: string, at: string, info: CallTransferFacts): Promise<EventEnvelope[]> {
    const t = info.transferor;
    return this.make('call.transfer', tenantId, at, {
      call_id: callId, kind: info.kind, target: info.target, new_call_id: info.newCallId ?? null,
      transferor: t && { number: t.number, name: t.name, extension_id: t.extensionId },
    });
  }

  /**
   * extension.status for a call presence edge. The service knows the extension by id only (an
   * answering ring-group member is not a party of the call), so its number is read here; an
   * extension deleted meanwhile is named by its id.
   */
  async presence(tenantId: string, extensionId: string, status: 'in_call' | 'idle', activeCalls: number, at: string): Promise<EventEnvelope[]> {
    const extension = await getExtension(this.opts.db, tenantId, extensionId).then((e) => e.number, () => extensionId);
    return this.make('extension.status', tenantId, at, presenceStatusData(extensionId, extension, status, activeCalls));
  }

  /**
   * Writes events whose change the store does not hold (hold, and call presence, which is the
   * service's in-memory count): the event is its own transaction, as security.ban is. Never throws — a lost write is logged, the call goes on.
   */
  async writeAlone(events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await inTransaction(this.opts.db, (trx) => appendOutboxEvents(trx, events), 'process-crash');
      this.committed();
    } catch (err) {
      this.opts.log.error({ err, types: events.map((e) => e.type) }, 'could not write events to the outbox');
    }
  }

  /** The write that carried the events committed: wake whoever reads the outbox. */
  committed(): void {
    this.opts.onCommitted?.();
  }

  private async make<T extends EventType>(type: T, tenantId: string, at: string, data: Parameters<typeof makeEvent<T>>[1]['data'], db: Db = this.opts.db): Promise<EventEnvelope[]> {
    try {
      const tenantExternalId = await this.externalIds.get(db, tenantId);
      return [makeEvent(type, { tenantId, tenantExternalId, at, data })];
    } catch (err) {
      this.opts.log.error({ err, type, tenantId }, 'could not make an event; the change is recorded without it');
      return [];
    }
  }
}
