import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../pagination.js';

/**
 * Request and response shapes of the extensions resource (product.md §2 item 4). Field names are
 * snake_case and unify the seeds: `number` (EDGVoIP's `extension`), `site_id` (the seeds' store),
 * `sip_password` (EDGVoIP's `password`), forwarding as one object instead of EDGVoIP's nested flags.
 */

/** Codecs the media layer (rtpengine) can offer or transcode; anything else is a typo. */
export const KNOWN_CODECS = ['opus', 'PCMU', 'PCMA', 'G722', 'G729', 'iLBC', 'GSM', 'speex', 'AMR', 'AMR-WB'] as const;

/** Digits only, 2–10: dialable from any keypad and safe as a SIP user part. */
const ExtensionNumber = z
  .string()
  .regex(/^[0-9]{2,10}$/, 'digits only, 2 to 10 of them')
  .openapi({ example: '1001' });

/**
 * At least 12 visible ASCII characters: long enough to resist online guessing through the
 * registrar's failure bans, and typeable into any phone's web UI (no spaces or non-ASCII).
 */
const SipPassword = z
  .string()
  .min(12, 'at least 12 characters')
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'visible ASCII characters only (no spaces)')
  .openapi({ example: 'k3Yb9-xQ2mWp_7Lr' });

/** A forwarding target: an extension or external number, as dialled. */
const Destination = z
  .string()
  .regex(/^\+?[0-9*#]{2,32}$/, 'a number as dialled: digits, * or #, optional leading +')
  .nullable();

const ForwardInput = z.strictObject({
  always: Destination.optional(),
  busy: Destination.optional(),
  no_answer: Destination.optional(),
  no_answer_seconds: z.number().int().min(5).max(300).optional(),
});

/** The settings both create and update accept. */
const settingsShape = {
  display_name: z.string().trim().min(1).max(100),
  caller_id_name: z.string().trim().max(64).nullable(),
  caller_id_number: z
    .string()
    .regex(/^\+?[0-9]{2,20}$/, 'digits with an optional leading +')
    .nullable(),
  codecs: z
    .array(z.enum(KNOWN_CODECS))
    .min(1)
    .refine((list) => new Set(list).size === list.length, 'each codec once'),
  voicemail_enabled: z.boolean(),
  recording_enabled: z.boolean(),
  forward: ForwardInput,
  dnd: z.boolean(),
  max_concurrent_calls: z.number().int().min(1).max(100),
  site_id: z.uuid().nullable(),
  status: z.enum(['active', 'disabled']),
  sip_password: SipPassword,
};

/**
 * POST body. Unknown fields are rejected (strict) so a misspelt setting fails loudly instead of
 * being silently ignored.
 */
export const CreateExtensionBody = z
  .strictObject(settingsShape)
  .partial()
  .extend({ number: ExtensionNumber })
  .openapi('CreateExtension');
export type CreateExtensionInput = z.infer<typeof CreateExtensionBody>;

/**
 * PATCH body: any field. `number` may change — the HA1 digest values are recomputed from the stored
 * password — and the old number's bindings are dropped since phones registered to the old AOR.
 */
export const UpdateExtensionBody = CreateExtensionBody.partial()
  .refine((body) => Object.keys(body).length > 0, 'at least one field to change')
  .openapi('UpdateExtension');
export type UpdateExtensionInput = z.infer<typeof UpdateExtensionBody>;

const ForwardSchema = z
  .object({
    always: z.string().nullable(),
    busy: z.string().nullable(),
    no_answer: z.string().nullable(),
    no_answer_seconds: z.number().int().nullable(),
  })
  .openapi('ExtensionForward');

/** Live registration summary shown with each extension. */
export const RegistrationSummarySchema = z
  .object({ registered: z.boolean(), contacts: z.number().int() })
  .openapi('RegistrationSummary');

export const ExtensionSchema = z
  .object({
    id: z.uuid(),
    number: z.string(),
    display_name: z.string(),
    caller_id_name: z.string().nullable(),
    caller_id_number: z.string().nullable(),
    codecs: z.array(z.string()),
    voicemail_enabled: z.boolean(),
    recording_enabled: z.boolean(),
    forward: ForwardSchema,
    dnd: z.boolean(),
    max_concurrent_calls: z.number().int(),
    site_id: z.string().nullable(),
    status: z.enum(['active', 'disabled']),
    /** What a phone needs, so it can be configured from any extension response. */
    sip_username: z.string(),
    sip_domain: z.string(),
    realm: z.string(),
    registration_status: RegistrationSummarySchema,
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Extension');
export type ExtensionView = z.infer<typeof ExtensionSchema>;

/** The create (and regenerate) answer: the extension plus its SIP password, shown this once. */
export const ExtensionWithPasswordSchema = ExtensionSchema.extend({ sip_password: z.string() }).openapi('ExtensionWithPassword');

export const CredentialsSchema = z
  .object({
    sip_username: z.string(),
    sip_password: z.string(),
    realm: z.string(),
    sip_domain: z.string(),
    /** Where phones send REGISTER: host:port when the SIP side reports it, else the SIP domain. */
    registrar: z.string(),
  })
  .openapi('ExtensionCredentials');

export const ListExtensionsQuery = paginationQuery(['number', 'display_name', 'created_at'], 'number').extend({
  status: z.enum(['active', 'disabled']).optional(),
  site_id: z.uuid().optional(),
  q: z.string().regex(/^[0-9]{1,10}$/, 'digits: a number prefix').optional().openapi({ description: 'number prefix' }),
  number: z.string().regex(/^[0-9]{2,10}$/, 'digits only, 2 to 10 of them').optional(),
});
