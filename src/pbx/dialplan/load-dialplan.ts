/**
 * Reads and checks a dialplan file at start-up. Every problem is listed with the file, the JSON path
 * inside it and what is wrong, so an operator fixes a broken dialplan in one go; main.ts stops the
 * start with this message rather than run with a dialplan that misroutes calls.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SwitchboardError } from '../../shared/errors.js';
import { compileDialplan, type Dialplan } from './dialplan.js';
import { DialplanSchema } from './dialplan.schema.js';

/** A dialplan that cannot be used; `problems` has one line per fault ("rules[2].match: …"). */
export class DialplanError extends SwitchboardError {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super('DIALPLAN_INVALID', `invalid dialplan ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'DialplanError';
  }
}

/** dialplan/default.json of this package (beside src/ in development, beside dist/ in the image). */
export function defaultDialplanPath(): string {
  return fileURLToPath(new URL('../../../dialplan/default.json', import.meta.url));
}

/** `rules[2].action.type` from zod's path array. */
function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(top level)';
}

/** Checks already-parsed JSON (tests, and the file reader below); `file` names the source in messages. */
export function parseDialplan(data: unknown, file: string): Dialplan {
  const parsed = DialplanSchema.safeParse(data);
  if (!parsed.success) throw new DialplanError(file, parsed.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`));
  return compileDialplan(parsed.data, file);
}

/** Reads, parses and checks the dialplan file at `path`. @throws DialplanError */
export function loadDialplan(path: string): Dialplan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DialplanError(path, [`cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new DialplanError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseDialplan(data, path);
}
