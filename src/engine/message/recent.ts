/**
 * A tiny memo of the last few results of a pure parser, keyed by the input string.
 *
 * One received request has its From, To and top Via parsed several times over: by validation,
 * received/rport stamping, transaction matching, dialog lookup and response building, each with
 * the same header value (most often the very same string object, so the comparison is a pointer
 * check). A handful of slots catches those repeats without a Map's hashing, and bounds memory.
 * Only for parsers whose results callers never mutate: every hit returns the same object.
 */
export class RecentResults<T> {
  private readonly keys: Array<string | undefined>;
  private readonly values: Array<T | undefined>;
  private next = 0;

  constructor(private readonly slots = 4) {
    this.keys = new Array<string | undefined>(slots).fill(undefined);
    this.values = new Array<T | undefined>(slots).fill(undefined);
  }

  /** `parse(input)`, from a recent call with an equal input when there was one. */
  get(input: string, parse: (s: string) => T): T {
    for (let k = 0; k < this.slots; k++) if (this.keys[k] === input) return this.values[k] as T;
    const value = parse(input);
    this.keys[this.next] = input;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.slots;
    return value;
  }
}
