import type { EventEnvelope } from '../../events/envelope.js';
import { uuid } from '../../shared/ids.js';
import { inTransaction, type Db } from '../database.js';
import { notFound } from '../db-errors.js';
import { appendOutboxEvents } from '../outbox/outbox.repository.js';
import type { CallDirection, CallTable, CdrDisposition, CdrTable, StoredCallState, StoredFinalCallState } from './call.table.js';

export type CallRow = CallTable;
export type CdrRow = CdrTable;

export interface NewCall {
  tenantId: string;
  direction: CallDirection;
  callerNumber: string;
  callerName?: string | null;
  calleeNumber: string;
  calleeName?: string | null;
  callerExtensionId?: string | null;
  calleeExtensionId?: string | null;
  siteId?: string | null;
  sipCallId?: string | null;
  instanceId: string;
  /** ISO-8601; the moment the INVITE arrived. */
  startedAt: string;
  /** Given by the call service so its in-memory call and the row share one id. */
  id?: string;
}

/**
 * Persist a call as it starts (state INITIATED), before any leg is tried, so a crash leaves a trace.
 * `events` (call.start) go to the outbox in the same transaction as the row.
 */
export async function createCall(db: Db, call: NewCall, events: readonly EventEnvelope[] = []): Promise<CallRow> {
  const row: CallRow = {
    id: call.id ?? uuid(),
    tenant_id: call.tenantId,
    state: 'INITIATED',
    direction: call.direction,
    caller_number: call.callerNumber,
    caller_name: call.callerName ?? null,
    callee_number: call.calleeNumber,
    callee_name: call.calleeName ?? null,
    caller_extension_id: call.callerExtensionId ?? null,
    callee_extension_id: call.calleeExtensionId ?? null,
    answered_extension_id: null,
    site_id: call.siteId ?? null,
    sip_call_id: call.sipCallId ?? null,
    started_at: call.startedAt,
    answered_at: null,
    ended_at: null,
    hangup_cause: null,
    sip_status: null,
    transferred_to_call_id: null,
    instance_id: call.instanceId,
  };
  // Survives kill -9 (crash recovery closes it as interrupted); not worth an fsync per call.
  await inTransaction(db, async (trx) => {
    await trx.insertInto('calls').values(row).execute();
    if (events.length > 0) await appendOutboxEvents(trx, events);
  }, 'process-crash');
  return row;
}

/**
 * Record a non-final state change (RINGING, ANSWERED); `answeredAt` and who answered with ANSWERED.
 * `events` (call.ringing, call.answered) go to the outbox in the same transaction.
 */
export async function updateCallState(
  db: Db,
  callId: string,
  change: { state: StoredCallState; answeredAt?: string; answeredExtensionId?: string | null },
  events: readonly EventEnvelope[] = [],
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await updateCallRow(trx, callId, change);
    if (events.length > 0) await appendOutboxEvents(trx, events);
  }, 'process-crash');
}

async function updateCallRow(db: Db, callId: string, change: { state: StoredCallState; answeredAt?: string; answeredExtensionId?: string | null }): Promise<void> {
  const result = await db
    .updateTable('calls')
    .set({
      state: change.state,
      ...(change.answeredAt !== undefined ? { answered_at: change.answeredAt } : {}),
      ...(change.answeredExtensionId !== undefined ? { answered_extension_id: change.answeredExtensionId } : {}),
    })
    .where('id', '=', callId)
    .where('ended_at', 'is', null)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) throw notFound('CALL', callId);
}

/**
 * A transfer moved this call's transferee to `newCallId`; copied to the CDR when the call ends.
 * `events` (call.transfer) go to the outbox in the same transaction, so the event exists exactly
 * when the link does. Power-loss durable like the end that follows it: a CDR's link is billing data.
 */
export async function markCallTransferred(db: Db, callId: string, newCallId: string, events: readonly EventEnvelope[] = []): Promise<void> {
  await inTransaction(db, async (trx) => {
    const result = await trx.updateTable('calls').set({ transferred_to_call_id: newCallId }).where('id', '=', callId).where('ended_at', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound('CALL', callId);
    if (events.length > 0) await appendOutboxEvents(trx, events);
  });
}

export interface CallEnd {
  state: StoredFinalCallState;
  endedAt: string;
  hangupCause: string;
  sipStatus?: number | null;
  /** Defaults to the one the final state implies; crash recovery passes `interrupted`. */
  disposition?: CdrDisposition;
}

const dispositionOf: Record<StoredFinalCallState, CdrDisposition> = {
  COMPLETED: 'answered',
  BUSY: 'busy',
  NO_ANSWER: 'no_answer',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
};

const wholeSecondsBetween = (from: string, to: string): number => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 1000));

/** The events a call's end causes, made from its CDR (call.ended carries the CDR fields). */
export type CallEndEvents = (cdr: CdrRow, trx: Db) => readonly EventEnvelope[] | Promise<readonly EventEnvelope[]>;

/**
 * End a call: its final state, its CDR and the events `events` makes of the CDR (given the open
 * transaction, for any lookup it needs: a query outside it would wait on the connection it holds) (call.ended) in one
 * transaction (issue 4 §6, issue 5 §2), so a reader never sees an ended call without its record, nor
 * a record of a call still open, and the event exists exactly when the end does.
 *
 * @throws CALL_NOT_FOUND when the call does not exist or has already ended.
 */
export async function finishCall(db: Db, callId: string, end: CallEnd, events?: CallEndEvents): Promise<CdrRow> {
  return inTransaction(db, async (trx) => {
    const call = await trx.selectFrom('calls').selectAll().where('id', '=', callId).where('ended_at', 'is', null).executeTakeFirst();
    if (!call) throw notFound('CALL', callId);
    await trx
      .updateTable('calls')
      .set({ state: end.state, ended_at: end.endedAt, hangup_cause: end.hangupCause, sip_status: end.sipStatus ?? null })
      .where('id', '=', callId)
      .execute();
    const cdr: CdrRow = {
      id: uuid(),
      tenant_id: call.tenant_id,
      call_id: call.id,
      direction: call.direction,
      caller_number: call.caller_number,
      caller_name: call.caller_name,
      callee_number: call.callee_number,
      callee_name: call.callee_name,
      caller_extension_id: call.caller_extension_id,
      callee_extension_id: call.callee_extension_id,
      answered_extension_id: call.answered_extension_id,
      site_id: call.site_id,
      sip_call_id: call.sip_call_id,
      started_at: call.started_at,
      answered_at: call.answered_at,
      ended_at: end.endedAt,
      duration_seconds: wholeSecondsBetween(call.started_at, end.endedAt),
      billable_seconds: call.answered_at === null ? 0 : wholeSecondsBetween(call.answered_at, end.endedAt),
      hangup_cause: end.hangupCause,
      sip_status: end.sipStatus ?? null,
      disposition: end.disposition ?? dispositionOf[end.state],
      transferred_to_call_id: call.transferred_to_call_id,
      created_at: end.endedAt,
    };
    await trx.insertInto('cdrs').values(cdr).execute();
    if (events) await appendOutboxEvents(trx, await events(cdr, trx));
    return cdr;
  });
}

/**
 * Crash recovery at start: close every call a previous run left open — of `instanceId` only, or
 * all when none is given — as FAILED with disposition `interrupted`, each with its CDR (and its
 * call.ended event when `events` is given). Returns
 * how many were closed.
 */
export async function closeInterruptedCalls(db: Db, opts: { instanceId?: string; now: string; events?: CallEndEvents }): Promise<number> {
  return inTransaction(db, async (trx) => {
    let query = trx.selectFrom('calls').select('id').where('ended_at', 'is', null);
    if (opts.instanceId !== undefined) query = query.where('instance_id', '=', opts.instanceId);
    const open = await query.execute();
    for (const { id } of open) {
      await finishCall(trx, id, { state: 'FAILED', endedAt: opts.now, hangupCause: 'SYSTEM_SHUTDOWN', disposition: 'interrupted' }, opts.events);
    }
    return open.length;
  });
}

/** One call by id, open or ended; undefined when it is not the tenant's. */
export async function findCall(db: Db, tenantId: string, callId: string): Promise<CallRow | undefined> {
  return db.selectFrom('calls').selectAll().where('tenant_id', '=', tenantId).where('id', '=', callId).executeTakeFirst();
}

/** What a CRM frame needs of a call (its direction and numbers), for calls whose call.start a reader did not see. */
export interface CallNumbers {
  id: string;
  direction: CallDirection;
  callerNumber: string;
  calleeNumber: string;
}

/** The direction and numbers of the given calls, any tenant (the caller filters by tenant itself). */
export async function findCallNumbers(db: Db, callIds: readonly string[]): Promise<CallNumbers[]> {
  if (callIds.length === 0) return [];
  const rows = await db.selectFrom('calls').select(['id', 'direction', 'caller_number', 'callee_number']).where('id', 'in', [...callIds]).execute();
  return rows.map((r) => ({ id: r.id, direction: r.direction, callerNumber: r.caller_number, calleeNumber: r.callee_number }));
}
