/**
 * Header lines of a webhook request head, as the delivery threads write them. A CR, LF or NUL in a
 * header name or value would split the head (a second header or request smuggled in). Custom
 * headers holding one are refused at creation (custom-headers.ts); this is the last guard before
 * the wire, and the delivery records a failed attempt instead of sending.
 */
const BREAKS_HEAD = /[\r\n\0]/;

/** Throws when the header's name or value holds a CR, LF or NUL. */
export function assertHeadSafe(name: string, value: string): void {
  if (BREAKS_HEAD.test(name)) throw breaksHead(name);
  assertValueHeadSafe(name, value);
}

/** Throws when the value holds a CR, LF or NUL (for a header whose name is ours). */
export function assertValueHeadSafe(name: string, value: string): void {
  if (BREAKS_HEAD.test(value)) throw breaksHead(name);
}

const breaksHead = (name: string): Error => new Error(`header ${JSON.stringify(name.slice(0, 64))} holds a line break`);

/** A flat name/value list as head lines, `name: value\r\n` each; throws as {@link assertHeadSafe}. */
export function headerLines(headers: readonly string[]): string {
  let lines = '';
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    assertHeadSafe(name, value);
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}
