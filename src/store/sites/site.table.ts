/** Row shape of `sites`: a tenant's locations (the seeds' "stores", keyed by `store_id`). */
export interface SiteTable {
  id: string;
  tenant_id: string;
  name: string;
  /** The integrator's store id; unique per tenant when set. */
  store_id: string | null;
  address: string | null;
  timezone: string | null;
  created_at: string;
  updated_at: string;
}
