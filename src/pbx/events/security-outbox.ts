import { makeEvent } from '../../events/envelope.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { appendOutboxEvents, inTransaction, type Db } from '../../store/index.js';
import { TenantExternalIds } from './tenant-external-ids.js';

/** A source the registrar banned (its `onBan` hook). */
export interface SipBan {
  source: string;
  failures: number;
  /** When the ban ends, ms since the epoch. */
  until: number;
}

/**
 * Writes `security.ban` to the outbox. A ban is in-memory state (the registrar's ban list), so
 * there is no store change to share a transaction with: the event is its own transaction. A ban
 * is of an address, not of a tenant; it is reported to the operator's tenant (the default tenant,
 * which owns requests to the PBX's own address). Never throws: a failed write is logged.
 */
export class SecurityOutbox {
  private readonly externalIds: TenantExternalIds;

  constructor(private readonly opts: { db: Db; clock: Clock; log: Logger; tenantId: string; onCommitted?: () => void }) {
    this.externalIds = new TenantExternalIds(opts.clock);
  }

  async sipBan(ban: SipBan): Promise<void> {
    const { db, tenantId } = this.opts;
    try {
      const event = makeEvent('security.ban', {
        tenantId,
        tenantExternalId: await this.externalIds.get(db, tenantId),
        at: new Date(this.opts.clock.now()),
        data: { ip: ban.source, source: 'sip', reason: 'repeated REGISTER authentication failures', failures: ban.failures, banned_until: new Date(ban.until).toISOString() },
      });
      await inTransaction(db, (trx) => appendOutboxEvents(trx, [event]));
      this.opts.onCommitted?.();
    } catch (err) {
      this.opts.log.error({ err, source: ban.source }, 'could not write security.ban to the outbox');
    }
  }
}
