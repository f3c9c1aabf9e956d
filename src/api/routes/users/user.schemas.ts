import { z } from '@hono/zod-openapi';
import type { User } from '../../../store/index.js';

export const ROLES = ['owner', 'admin', 'user'] as const;

/** A user as the API shows it; there is no password hash here on purpose. */
export const UserSchema = z
  .object({
    id: z.uuid(),
    tenant_id: z.uuid(),
    email: z.string().openapi({ example: 'ada@example.com' }),
    name: z.string(),
    role: z.enum(ROLES),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('User');

export function userJson(u: User): z.infer<typeof UserSchema> {
  return { id: u.id, tenant_id: u.tenantId, email: u.email, name: u.name, role: u.role, created_at: u.createdAt, updated_at: u.updatedAt };
}

/**
 * At least 10 characters (length beats composition rules, NIST SP 800-63B); at most 1024 so a
 * request cannot make scrypt hash megabytes.
 */
export const PasswordSchema = z.string().min(10, 'at least 10 characters').max(1024);
export const EmailSchema = z.email().max(254);
const name = z.string().trim().min(1).max(200);

export const CreateUserSchema = z
  .object({ email: EmailSchema, name, role: z.enum(ROLES).default('user'), password: PasswordSchema })
  .openapi('CreateUser');

export const UpdateUserSchema = z
  .object({ email: EmailSchema.optional(), name: name.optional(), role: z.enum(ROLES).optional() })
  .openapi('UpdateUser');
