import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { SwitchboardError } from '../shared/errors.js';
import type { ApiEnv } from './env.js';

/**
 * Stable error codes of the generic API layer. Resources add their own (e.g. `EXTENSION_NOT_FOUND`)
 * through `SwitchboardError`; these are the ones clients can expect from every route.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  INTERNAL: 'INTERNAL',
} as const;

const defaultStatus: Record<string, ContentfulStatusCode> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

/** One field-level problem; `field` is the dotted path into the request part (`a.b`, `items.0.id`). */
export const ErrorDetailSchema = z.object({ field: z.string(), issue: z.string() }).openapi('ErrorDetail');
export type ErrorDetail = z.infer<typeof ErrorDetailSchema>;

/**
 * The one error envelope every failure uses, so clients parse errors the same way on every route.
 * `retry_after` (seconds) appears on 429 only.
 */
export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'VALIDATION_FAILED' }),
      message: z.string(),
      details: z.array(ErrorDetailSchema).optional(),
      retry_after: z.number().int().optional(),
    }),
    request_id: z.string(),
  })
  .openapi('Error');
export type ErrorEnvelope = z.infer<typeof ErrorEnvelopeSchema>;

/**
 * An expected failure that names the request fields at fault, e.g. a reference to another tenant's
 * extension (422) or the failing items of a batch, which zod cannot know about. Thrown inside a
 * transaction it also rolls the transaction back.
 */
export class FieldError extends SwitchboardError {
  readonly details: ErrorDetail[];

  constructor(code: string, message: string, details: ErrorDetail[], httpStatus = 422) {
    super(code, message, { httpStatus });
    this.name = 'FieldError';
    this.details = details;
  }
}

/** Extra envelope fields beyond code and message. */
export interface ErrorExtras {
  details?: ErrorDetail[];
  retry_after?: number;
}

/** Builds the envelope response; every error path goes through here so the shape cannot drift. */
export function errorResponse(
  c: Context<ApiEnv>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extras: ErrorExtras = {},
): Response {
  const body: ErrorEnvelope = {
    error: { code, message, ...extras },
    request_id: c.get('requestId') ?? 'unknown',
  };
  return c.json(body, status);
}

/** zod issues → details naming each field, so a client can point at the exact input that failed. */
export function zodDetails(error: z.ZodError, prefix?: string): ErrorDetail[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const field = prefix ? (path ? `${prefix}.${path}` : prefix) : path || '(root)';
    return { field, issue: issue.message };
  });
}

/** Response for a failed validation of one request part (`json`, `query`, `param`, `header`…). */
export function validationErrorResponse(c: Context<ApiEnv>, error: z.ZodError): Response {
  const details = zodDetails(error);
  const fields = details.map((d) => d.field).join(', ');
  return errorResponse(c, 400, ErrorCodes.VALIDATION_FAILED, `invalid request: ${fields}`, { details });
}

/**
 * The app's `onError`: known errors keep their code and status; anything else is logged once and
 * answered as INTERNAL without leaking its message.
 */
export function handleError(err: Error, c: Context<ApiEnv>): Response {
  if (err instanceof SwitchboardError) {
    const status = (err.httpStatus ?? defaultStatus[err.code] ?? 500) as ContentfulStatusCode;
    if (status >= 500) c.get('log')?.error({ err }, 'request failed');
    return errorResponse(c, status, err.code, err.message, err instanceof FieldError ? { details: err.details } : {});
  }
  if (err instanceof z.ZodError) return validationErrorResponse(c, err);
  if (err instanceof HTTPException && err.status < 500) {
    // Hono's own 4xx (e.g. malformed JSON from a validator): keep the status, give it our envelope.
    const code = err.status === 400 ? ErrorCodes.VALIDATION_FAILED : (codeByStatus[err.status] ?? 'BAD_REQUEST');
    const details = err.status === 400 ? [{ field: '(body)', issue: err.message }] : undefined;
    return errorResponse(c, err.status, code, err.message, details ? { details } : {});
  }
  c.get('log')?.error({ err }, 'unhandled error');
  return errorResponse(c, 500, ErrorCodes.INTERNAL, 'internal error');
}

const codeByStatus: Record<number, string> = Object.fromEntries(
  Object.entries(defaultStatus).map(([code, status]) => [status, code]),
);
