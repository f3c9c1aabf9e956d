/** Row shape of `registrations`: one contact binding, with the flow it arrived on (for NAT). */
export interface RegistrationTable {
  id: string;
  tenant_id: string;
  extension_id: string;
  aor: string;
  contact_uri: string;
  expires_at: string;
  user_agent: string | null;
  transport: string;
  source_address: string;
  source_port: number;
  connection_id: string | null;
  call_id: string;
  cseq: number;
  /** RFC 5626 `+sip.instance`, when the UA sends one. */
  instance_id: string | null;
  created_at: string;
  updated_at: string;
}
