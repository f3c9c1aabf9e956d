import { z } from '@hono/zod-openapi';
import type { Registration } from '../../../store/index.js';
import { paginationQuery } from '../../pagination.js';
import type { SipStatusPort } from '../../resources.js';

/**
 * Registrations (contact bindings the registrar keeps) and extension status as the API shows them
 * (issue 3 §6, product.md §2 items 3–4). `connection_type` is the seeds' `sip`/`wss` distinction.
 */

/** Transports the SIP engine accepts (lower case, as the registrar stores them). */
export const TRANSPORTS = ['udp', 'tcp', 'tls', 'ws', 'wss'] as const;

/** Browsers register over WebSocket; everything else is a plain SIP phone. */
export function connectionType(transport: string): 'sip' | 'wss' {
  const t = transport.toLowerCase();
  return t === 'ws' || t === 'wss' ? 'wss' : 'sip';
}

const QualifySchema = z
  .object({ reachable: z.boolean(), rtt_ms: z.number().nullable(), checked_at: z.string() })
  .nullable()
  .openapi({ description: 'last OPTIONS qualify of the binding; null when not (yet) qualified or SIP is not running' });

export const RegistrationSchema = z
  .object({
    id: z.uuid(),
    extension_id: z.uuid(),
    extension_number: z.string(),
    aor: z.string(),
    contact_uri: z.string(),
    user_agent: z.string().nullable(),
    transport: z.string(),
    connection_type: z.enum(['sip', 'wss']),
    source_address: z.string(),
    source_port: z.number().int(),
    expires_at: z.string(),
    /** Seconds left, so clients need no clock of their own. */
    expires_in: z.number().int(),
    qualify: QualifySchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Registration');
export type RegistrationView = z.infer<typeof RegistrationSchema>;

export const ContactStatusSchema = z
  .object({
    registration_id: z.uuid(),
    ip: z.string(),
    port: z.number().int(),
    transport: z.string(),
    connection_type: z.enum(['sip', 'wss']),
    user_agent: z.string().nullable(),
    expires_at: z.string(),
    /** When the phone last registered (refreshed) this contact. */
    last_seen: z.string(),
    qualify: QualifySchema,
  })
  .openapi('ContactStatus');

export const ExtensionStatusSchema = z
  .object({
    extension_id: z.uuid(),
    number: z.string(),
    status: z.enum(['active', 'disabled']),
    dnd: z.boolean(),
    registered: z.boolean(),
    /** Most recently refreshed first. */
    contacts: z.array(ContactStatusSchema),
    last_seen: z.string().nullable(),
  })
  .openapi('ExtensionStatus');

const registrationSort = ['updated_at', 'created_at', 'expires_at'] as const;

export const ListRegistrationsQuery = paginationQuery([...registrationSort], '-updated_at').extend({
  extension_id: z.uuid().optional(),
  number: z.string().regex(/^[0-9]{2,10}$/, 'digits only, 2 to 10 of them').optional(),
  transport: z.enum(TRANSPORTS).optional(),
});

/** The per-extension list takes paging and sorting only (the extension is in the path). */
export const ExtensionRegistrationsQuery = paginationQuery([...registrationSort], '-updated_at');

function qualifyOf(sip: SipStatusPort | undefined, registrationId: string): RegistrationView['qualify'] {
  const q = sip?.qualifyStatus?.(registrationId);
  return q ? { reachable: q.reachable, rtt_ms: q.rttMs ?? null, checked_at: q.checkedAt } : null;
}

/** A binding as the API shows it; `nowMs` is the wall clock, for `expires_in`. */
export function registrationView(r: Registration, number: string, nowMs: number, sip?: SipStatusPort): RegistrationView {
  return {
    id: r.id,
    extension_id: r.extensionId,
    extension_number: number,
    aor: r.aor,
    contact_uri: r.contactUri,
    user_agent: r.userAgent,
    transport: r.transport,
    connection_type: connectionType(r.transport),
    source_address: r.sourceAddress,
    source_port: r.sourcePort,
    expires_at: r.expiresAt,
    expires_in: Math.max(0, Math.round((Date.parse(r.expiresAt) - nowMs) / 1000)),
    qualify: qualifyOf(sip, r.id),
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

/** One contact of an extension's status. */
export function contactStatus(r: Registration, sip?: SipStatusPort): z.infer<typeof ContactStatusSchema> {
  return {
    registration_id: r.id,
    ip: r.sourceAddress,
    port: r.sourcePort,
    transport: r.transport,
    connection_type: connectionType(r.transport),
    user_agent: r.userAgent,
    expires_at: r.expiresAt,
    last_seen: r.updatedAt,
    qualify: qualifyOf(sip, r.id),
  };
}
