import { z } from '@hono/zod-openapi';
import type { Site } from '../../../store/index.js';

/**
 * True for IANA zone names the runtime knows (`Europe/Rome`, `UTC`). The name pattern comes first
 * because newer ICU versions also accept offsets like `+01:00`, which have no DST rules and would
 * make business-hours schedules wrong twice a year.
 */
export function isIanaTimeZone(tz: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A site as the API shows it: the seeds' "store", keyed by the integrator's `store_id`. */
export const SiteSchema = z
  .object({
    id: z.uuid(),
    tenant_id: z.uuid(),
    name: z.string(),
    store_id: z.string().nullable().openapi({ example: 'store-001' }),
    address: z.string().nullable(),
    timezone: z.string().nullable().openapi({ example: 'Europe/Rome' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Site');

export function siteJson(s: Site): z.infer<typeof SiteSchema> {
  return {
    id: s.id,
    tenant_id: s.tenantId,
    name: s.name,
    store_id: s.storeId,
    address: s.address,
    timezone: s.timezone,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}

const storeId = z.string().trim().min(1).max(255);
const fields = {
  name: z.string().trim().min(1).max(200),
  store_id: storeId.nullable().optional(),
  address: z.string().max(500).nullable().optional(),
  timezone: z.string().refine(isIanaTimeZone, 'must be an IANA time zone such as Europe/Rome').nullable().optional(),
};

export const CreateSiteSchema = z.object(fields).openapi('CreateSite');
export const UpdateSiteSchema = z.object({ ...fields, name: fields.name.optional() }).openapi('UpdateSite');

export const StoreIdParams = z.object({
  store_id: storeId.openapi({ param: { name: 'store_id', in: 'path' }, example: 'store-001' }),
});
