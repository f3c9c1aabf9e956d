import { z } from '@hono/zod-openapi';
import { paginationQuery } from '../../pagination.js';

/**
 * Request and response shapes of `/api/v1/ring-groups` (product.md §2 item 6, issue 4 §4). Names
 * unify the seeds (OpBX: name, description, strategy, timeout, members[{extension_id, priority}])
 * with what a PBX needs beyond them: a dialable `number`, a per-member timeout and a fallback.
 */

export const STRATEGIES = ['simultaneous', 'sequential', 'round_robin'] as const;

/** Same shape as extension numbers: the two share the tenant's dial space. */
const GroupNumber = z.string().regex(/^[0-9]{2,10}$/, 'digits only, 2 to 10 of them').openapi({ example: '600' });

/** Where an unanswered call goes: any number as dialled (an extension, another group, an outside number). */
const FallbackNumber = z
  .string()
  .regex(/^\+?[0-9*#]{2,32}$/, 'a number as dialled: digits, * or #, optional leading +')
  .nullable()
  .openapi({ example: '1000' });

const MemberInput = z
  .strictObject({
    extension_id: z.uuid(),
    /** Lower rings first in sequential and round-robin; default: the member's place in the list. */
    priority: z.number().int().min(1).max(1000).optional(),
    /** Seconds this member rings (sequential, round-robin); null/absent: the group's member_timeout_seconds. */
    timeout_seconds: z.number().int().min(2).max(300).nullable().optional(),
  })
  .openapi('RingGroupMemberInput');

/** The whole member list; an extension may appear once (a second entry would only double its ring). */
const Members = z
  .array(MemberInput)
  .max(100)
  .superRefine((members, ctx) => {
    const seen = new Set<string>();
    members.forEach((m, i) => {
      if (seen.has(m.extension_id)) ctx.addIssue({ code: 'custom', path: [i, 'extension_id'], message: 'each extension once' });
      seen.add(m.extension_id);
    });
  });

const settingsShape = {
  name: z.string().trim().min(1).max(100),
  description: z.string().trim().max(500).nullable(),
  strategy: z.enum(STRATEGIES),
  ring_timeout_seconds: z.number().int().min(5).max(600).openapi({ description: 'the whole group rings at most this long', example: 30 }),
  member_timeout_seconds: z.number().int().min(2).max(300).openapi({ description: 'default ring time of one member (sequential, round_robin)', example: 15 }),
  fallback_number: FallbackNumber,
  site_id: z.uuid().nullable(),
  members: Members,
};

/** POST body; unknown fields are rejected so a misspelt setting fails loudly. */
export const CreateRingGroupBody = z
  .strictObject(settingsShape)
  .partial()
  .extend({ number: GroupNumber, name: settingsShape.name })
  .openapi('CreateRingGroup');
export type CreateRingGroupInput = z.infer<typeof CreateRingGroupBody>;

/** PATCH body: any field; `members`, when present, replaces the whole list. */
export const UpdateRingGroupBody = CreateRingGroupBody.partial()
  .refine((b) => Object.keys(b).length > 0, 'at least one field to change')
  .openapi('UpdateRingGroup');
export type UpdateRingGroupInput = z.infer<typeof UpdateRingGroupBody>;

export const RingGroupMemberSchema = z
  .object({
    extension_id: z.uuid(),
    /** The member's extension number, so a list reads without a second request. */
    number: z.string(),
    priority: z.number().int(),
    timeout_seconds: z.number().int().nullable(),
  })
  .openapi('RingGroupMember');

export const RingGroupSchema = z
  .object({
    id: z.uuid(),
    number: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    strategy: z.enum(STRATEGIES),
    ring_timeout_seconds: z.number().int(),
    member_timeout_seconds: z.number().int(),
    fallback_number: z.string().nullable(),
    site_id: z.string().nullable(),
    members: z.array(RingGroupMemberSchema).openapi({ description: 'in ringing order: priority, then the order given' }),
    last_answered_extension_id: z.string().nullable().openapi({ description: 'round-robin memory: the next call starts after this member' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('RingGroup');
export type RingGroupView = z.infer<typeof RingGroupSchema>;

export const ListRingGroupsQuery = paginationQuery(['number', 'name', 'created_at'], 'number').extend({
  strategy: z.enum(STRATEGIES).optional(),
  site_id: z.uuid().optional(),
  extension_id: z.uuid().optional().openapi({ description: 'groups this extension is a member of' }),
  q: z.string().regex(/^[0-9]{1,10}$/, 'digits: a number prefix').optional().openapi({ description: 'number prefix' }),
  number: z.string().regex(/^[0-9]{2,10}$/, 'digits only, 2 to 10 of them').optional(),
});
