/** Row shape of `tenants`: each tenant has its own SIP domain and digest realm. */
export interface TenantTable {
  id: string;
  name: string;
  /** Host part SIP requests are addressed to; unique so a request maps to one tenant. */
  sip_domain: string;
  /** Digest realm; HA1 values of the tenant's extensions are computed over it. */
  realm: string;
  /** The integrator's id for this tenant (alphanumeric, `-`, `_`); unique when set. */
  tenant_external_id: string | null;
  created_at: string;
  updated_at: string;
}
