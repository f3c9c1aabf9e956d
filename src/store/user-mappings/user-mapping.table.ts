/** Row shape of `external_user_mappings`: an outside system's user id → a user and/or extension. */
export interface UserMappingTable {
  id: string;
  tenant_id: string;
  /** The outside system the id belongs to (`crm`, `helpdesk`…); `default` when there is one. */
  external_system: string;
  external_user_id: string;
  user_id: string | null;
  extension_id: string | null;
  display_name: string | null;
  created_at: string;
  updated_at: string;
}
