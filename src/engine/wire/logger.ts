/**
 * Logging contract of the wire layer, kept apart so every module can use it without import cycles.
 */
/**
 * The logging surface the wire layer needs; a pino logger satisfies it. Deep modules receive a
 * logger rather than importing the root one (docs/architecture.md, Conventions).
 */
export interface WireLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything, for callers (and tests) that pass none. */
export const silentLogger: WireLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
