/** Row shape of `audit_log`: who did what to which resource, and whether it worked. Append-only. */
export interface AuditLogTable {
  id: string;
  /** Null for system-wide events (first-run setup, boot). */
  tenant_id: string | null;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  result: string;
  ip: string | null;
  /** JSON object; callers must not put secrets here. */
  details: string;
  created_at: string;
}
