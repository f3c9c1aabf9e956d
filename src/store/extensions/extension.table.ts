/** Row shape of `extensions`. The SIP password is never stored in clear (see extension.repository.ts). */
export interface ExtensionTable {
  id: string;
  tenant_id: string;
  /** Dialable number / SIP user; unique per tenant. */
  number: string;
  display_name: string;
  /** MD5(number:realm:password) hex, for RFC 2617 digest. */
  ha1_md5: string;
  /** SHA-256(number:realm:password) hex, for RFC 8760 digest. */
  ha1_sha256: string;
  /** AES-256-GCM ciphertext of the SIP password with the row id as AAD. */
  sip_password_enc: string;
  caller_id_name: string | null;
  caller_id_number: string | null;
  /** JSON array of codec names in preference order. */
  codecs: string;
  voicemail_enabled: number;
  recording_enabled: number;
  /** JSON object of forwarding rules. */
  forward: string;
  dnd: number;
  max_concurrent_calls: number;
  site_id: string | null;
  status: 'active' | 'disabled';
  created_at: string;
  updated_at: string;
}
