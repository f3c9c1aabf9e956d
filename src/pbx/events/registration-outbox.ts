import { makeEvent, type EventEnvelope } from '../../events/envelope.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Binding, BindingEndReason, LiveBindingCount, RegistrationEventSink } from '../../sip/registrar/index.js';
import type { Db } from '../../store/index.js';
import { extensionOf, registrationStatusData } from './extension-status.js';
import { TenantExternalIds } from './tenant-external-ids.js';

/**
 * The registrar's {@link RegistrationEventSink}: registration.created and registration.expired
 * envelopes, each followed by the extension.status it causes (when the registrar says how many
 * bindings were live before), which the registrar's binding writer commits with the binding
 * changes. Never throws:
 * an event that cannot be made is logged and left out rather than costing the phone its binding.
 */
export class RegistrationOutbox implements RegistrationEventSink {
  private readonly externalIds: TenantExternalIds;

  constructor(private readonly opts: { db: Db; clock: Clock; log: Logger; onCommitted?: () => void }) {
    this.externalIds = new TenantExternalIds(opts.clock);
  }

  created(bindings: readonly Binding[], liveBefore?: LiveBindingCount): Promise<EventEnvelope[]> {
    return this.make(bindings, 1, liveBefore, (b, tenantExternalId, at) =>
      makeEvent('registration.created', {
        tenantId: b.tenantId, tenantExternalId, at,
        data: {
          registration_id: b.id, extension_id: b.extensionId, extension: extensionOf(b.aor), contact: b.contactUri, transport: b.transport,
          source_ip: b.sourceAddress, source_port: b.sourcePort, user_agent: b.userAgent, expires_at: new Date(b.expiresAtMs).toISOString(),
        },
      }),
    );
  }

  ended(bindings: readonly Binding[], reason: BindingEndReason, liveBefore?: LiveBindingCount): Promise<EventEnvelope[]> {
    return this.make(bindings, -1, liveBefore, (b, tenantExternalId, at) =>
      makeEvent('registration.expired', {
        tenantId: b.tenantId, tenantExternalId, at,
        data: { registration_id: b.id, extension_id: b.extensionId, extension: extensionOf(b.aor), contact: b.contactUri, reason },
      }),
    );
  }

  committed(): void {
    this.opts.onCommitted?.();
  }

  private async make(
    bindings: readonly Binding[],
    delta: 1 | -1,
    liveBefore: LiveBindingCount | undefined,
    build: (b: Binding, tenantExternalId: string | null, at: Date) => EventEnvelope,
  ): Promise<EventEnvelope[]> {
    const out: EventEnvelope[] = [];
    const at = new Date(this.opts.clock.now());
    // Per extension, the live count moves binding by binding, so each status says its own before/after.
    const live = new Map<string, number>();
    for (const b of bindings) {
      try {
        const tenantExternalId = await this.externalIds.get(this.opts.db, b.tenantId);
        out.push(build(b, tenantExternalId, at));
        if (!liveBefore) continue;
        const before = live.get(b.extensionId) ?? liveBefore(b.extensionId);
        live.set(b.extensionId, Math.max(0, before + delta));
        out.push(makeEvent('extension.status', { tenantId: b.tenantId, tenantExternalId, at, data: registrationStatusData(b, delta, before) }));
      } catch (err) {
        this.opts.log.error({ err, registrationId: b.id }, 'could not make a registration event; the binding change is recorded without it');
      }
    }
    return out;
  }
}
