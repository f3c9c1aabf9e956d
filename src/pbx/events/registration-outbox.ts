import { makeEvent, type EventEnvelope } from '../../events/envelope.js';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Binding, BindingEndReason, RegistrationEventSink } from '../../sip/registrar/index.js';
import type { Db } from '../../store/index.js';
import { TenantExternalIds } from './tenant-external-ids.js';

/** The extension number of a binding: the user part of its address of record (`sip:1001@acme.test`). */
const extensionOf = (aor: string): string => /^sips?:([^@;]+)@/i.exec(aor)?.[1] ?? aor;

/**
 * The registrar's {@link RegistrationEventSink}: registration.created and registration.expired
 * envelopes, which the registrar's binding writer commits with the binding changes. Never throws:
 * an event that cannot be made is logged and left out rather than costing the phone its binding.
 */
export class RegistrationOutbox implements RegistrationEventSink {
  private readonly externalIds: TenantExternalIds;

  constructor(private readonly opts: { db: Db; clock: Clock; log: Logger; onCommitted?: () => void }) {
    this.externalIds = new TenantExternalIds(opts.clock);
  }

  created(bindings: readonly Binding[]): Promise<EventEnvelope[]> {
    return this.make(bindings, (b, tenantExternalId, at) =>
      makeEvent('registration.created', {
        tenantId: b.tenantId, tenantExternalId, at,
        data: {
          registration_id: b.id, extension_id: b.extensionId, extension: extensionOf(b.aor), contact: b.contactUri, transport: b.transport,
          source_ip: b.sourceAddress, source_port: b.sourcePort, user_agent: b.userAgent, expires_at: new Date(b.expiresAtMs).toISOString(),
        },
      }),
    );
  }

  ended(bindings: readonly Binding[], reason: BindingEndReason): Promise<EventEnvelope[]> {
    return this.make(bindings, (b, tenantExternalId, at) =>
      makeEvent('registration.expired', {
        tenantId: b.tenantId, tenantExternalId, at,
        data: { registration_id: b.id, extension_id: b.extensionId, extension: extensionOf(b.aor), contact: b.contactUri, reason },
      }),
    );
  }

  committed(): void {
    this.opts.onCommitted?.();
  }

  private async make(bindings: readonly Binding[], build: (b: Binding, tenantExternalId: string | null, at: Date) => EventEnvelope): Promise<EventEnvelope[]> {
    const out: EventEnvelope[] = [];
    const at = new Date(this.opts.clock.now());
    for (const b of bindings) {
      try {
        out.push(build(b, await this.externalIds.get(this.opts.db, b.tenantId), at));
      } catch (err) {
        this.opts.log.error({ err, registrationId: b.id }, 'could not make a registration event; the binding change is recorded without it');
      }
    }
    return out;
  }
}
