import type { Migration } from 'kysely';
import { initial } from './0001-initial.js';
import { sessions } from './0002-sessions.js';
import { mappingsAndRequestLog } from './0003-mappings-and-request-log.js';
import { callsAndCdrs } from './0004-calls-and-cdrs.js';
import { answeredBy } from './0005-answered-by.js';
import { ringGroups } from './0006-ring-groups.js';
import { transfers } from './0007-transfers.js';
import { webhooks } from './0008-webhooks.js';
import { outbox } from './0009-outbox.js';
import { webhookHeaderSecrets } from './0010-webhook-header-secrets.js';
import { pendingDeliveryIndexes } from './0011-pending-delivery-indexes.js';
import { webhookCursors } from './0012-webhook-cursors.js';
import { webhookDeliveryRuns } from './0013-webhook-delivery-runs.js';

/**
 * Every migration, by name, in order. Imported statically rather than read from a folder so the
 * same code runs from tsx (src/) and from compiled dist/ without path tricks.
 */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_sessions': sessions,
  '0003_mappings_and_request_log': mappingsAndRequestLog,
  '0004_calls_and_cdrs': callsAndCdrs,
  '0005_answered_by': answeredBy,
  '0006_ring_groups': ringGroups,
  '0007_transfers': transfers,
  '0008_webhooks': webhooks,
  '0009_outbox': outbox,
  '0010_webhook_header_secrets': webhookHeaderSecrets,
  '0011_pending_delivery_indexes': pendingDeliveryIndexes,
  '0012_webhook_cursors': webhookCursors,
  '0013_webhook_delivery_runs': webhookDeliveryRuns,
};
