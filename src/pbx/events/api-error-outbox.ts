import { makeEvent, type EventEnvelope } from '../../events/envelope.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Db, RequestLogEvents, RequestLogRecord } from '../../store/index.js';
import { TenantExternalIds } from './tenant-external-ids.js';

/**
 * api.error (issue 5 §1) for the request log writer, which commits the events in the same
 * transaction as the batch of log lines they describe. Only a request that resolved to a tenant
 * makes one: a 401 (or any answer before authentication) has no tenant, so there is nobody whose
 * webhooks or stream could be told; the request log keeps it. Never throws: an event that cannot
 * be made is logged and left out rather than costing the batch its log lines.
 */
export class ApiErrorOutbox {
  private readonly externalIds: TenantExternalIds;

  constructor(private readonly opts: { clock: Clock; log: Logger; onCommitted?: () => void }) {
    this.externalIds = new TenantExternalIds(opts.clock);
  }

  /** The writer's `events` hook: the records arrive with their path already redacted. */
  readonly events: RequestLogEvents = async (records: readonly RequestLogRecord[], trx: Db) => {
    const out: EventEnvelope[] = [];
    for (const r of records) {
      if (r.status < 400 || r.status > 599 || r.tenant_id === undefined) continue;
      try {
        out.push(makeEvent('api.error', {
          tenantId: r.tenant_id, tenantExternalId: await this.externalIds.get(trx, r.tenant_id), at: r.time,
          data: { request_id: r.request_id, endpoint: r.route ?? r.path, method: r.method, status_code: r.status, error_code: r.error_code ?? null, principal_id: r.principal_id ?? null },
        }));
      } catch (err) {
        this.opts.log.error({ err, requestId: r.request_id }, 'could not make api.error; the request is logged without it');
      }
    }
    return out;
  };

  committed(): void {
    this.opts.onCommitted?.();
  }
}
