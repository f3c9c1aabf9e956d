/**
 * One base error for the whole project: a stable string `code` that callers and API clients can
 * switch on, an optional `cause`, and the SIP or HTTP status it maps to at the edges.
 */
export class SwitchboardError extends Error {
  readonly code: string;
  readonly sipStatus?: number;
  readonly httpStatus?: number;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; sipStatus?: number; httpStatus?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SwitchboardError';
    this.code = code;
    if (options.sipStatus !== undefined) this.sipStatus = options.sipStatus;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
  }
}
