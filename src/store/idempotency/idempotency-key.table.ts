/** Row shape of `idempotency_keys`: the first response to a mutating request, replayed on retry. */
export interface IdempotencyKeyTable {
  tenant_id: string;
  key: string;
  method: string;
  path: string;
  /** Hash of the request body, so a reused key with a different body can be refused. */
  request_hash: string;
  status: number;
  response_body: string;
  created_at: string;
}
