/** How a ring group rings its members (product.md §2 item 6). */
export type RingStrategy = 'simultaneous' | 'sequential' | 'round_robin';

/** Row shape of `ring_groups`. */
export interface RingGroupTable {
  id: string;
  tenant_id: string;
  /** Dialable number; unique per tenant across ring groups and extensions. */
  number: string;
  name: string;
  description: string | null;
  strategy: RingStrategy;
  /** The whole group's ring time (the call's ring limit while the group rings). */
  ring_timeout_seconds: number;
  /** How long one member rings in sequential and round-robin, unless the member says otherwise. */
  member_timeout_seconds: number;
  /** Dialled by the dialplan when nobody answered; null: the caller gets the final status. */
  fallback_number: string | null;
  /** Round-robin memory: the member that answered last; the next call starts after it. */
  last_answered_extension_id: string | null;
  site_id: string | null;
  created_at: string;
  updated_at: string;
}

/** Row shape of `ring_group_members`. */
export interface RingGroupMemberTable {
  ring_group_id: string;
  extension_id: string;
  priority: number;
  /** Index in the list as given, breaking priority ties. */
  position: number;
  timeout_seconds: number | null;
}
