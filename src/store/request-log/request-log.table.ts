/**
 * Row shape of `api_request_log`: one line per API request. Holds no secrets: the path is stored
 * without its query string, and neither headers nor bodies are kept.
 */
export interface RequestLogTable {
  id: string;
  request_id: string;
  tenant_id: string | null;
  /** API key id or user id of the caller, when authenticated. */
  principal_id: string | null;
  method: string;
  path: string;
  /** The route template (`/api/v1/extensions/:id`), for grouping; null when no route matched. */
  route: string | null;
  status: number;
  duration_ms: number;
  ip: string | null;
  user_agent: string | null;
  /** The error envelope's code for failed requests. */
  error_code: string | null;
  time: string;
}
