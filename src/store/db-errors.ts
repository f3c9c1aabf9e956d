import { SwitchboardError } from '../shared/errors.js';

const UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', '23505']);
const FOREIGN_KEY_CODES = new Set(['SQLITE_CONSTRAINT_FOREIGNKEY', '23503']);

function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/**
 * Turns a driver constraint error into a {@link SwitchboardError} the API can map to a status,
 * so no caller has to know SQLite's (or later PostgreSQL's) error codes. Anything else is
 * returned unchanged.
 * @param what the entity being written, for the message (`"extension"`).
 */
export function translateDbError(err: unknown, what: string): unknown {
  const code = errorCode(err);
  if (code !== undefined && UNIQUE_CODES.has(code)) {
    return new SwitchboardError('CONFLICT', `${what} already exists`, { cause: err, httpStatus: 409 });
  }
  if (code !== undefined && FOREIGN_KEY_CODES.has(code)) {
    return new SwitchboardError('INVALID_REFERENCE', `${what} refers to a row that does not exist`, {
      cause: err,
      httpStatus: 422,
    });
  }
  return err;
}

/** Awaits `work`, rethrowing constraint failures as typed errors (see {@link translateDbError}). */
export async function withDbErrors<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translateDbError(err, what);
  }
}

/** A not-found error with the stable code the API returns (e.g. `EXTENSION_NOT_FOUND`). */
export function notFound(entity: string, id: string): SwitchboardError {
  return new SwitchboardError(`${entity.toUpperCase()}_NOT_FOUND`, `${entity.toLowerCase()} ${id} not found`, {
    httpStatus: 404,
  });
}
