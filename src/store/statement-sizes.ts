import { CompiledQuery } from 'kysely';
import type { Db } from './database.js';

/**
 * Splits `n` rows into power-of-two statement sizes (at most `max`): a multi-row statement's SQL
 * text depends on its row count, and the store caches prepared statements by text (LRU of 200), so
 * arbitrary counts would prepare a new statement every time (and evict the app's others), while
 * these few sizes stay prepared.
 */
export function chunkSizes(n: number, max: number): number[] {
  const sizes: number[] = [];
  let left = n;
  while (left > 0) {
    let size = max;
    while (size > left) size >>= 1;
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/**
 * A multi-row INSERT compiled by hand (Kysely's query tree per row cost a tenth of the main thread
 * at 20,000 rows a second), sent in power-of-two chunks of at most `maxRows` so its few texts stay
 * prepared. `head` is everything before the rows, `row` one row's placeholders.
 */
export class MultiRowInsert<T, C> {
  private readonly texts = new Map<number, string>();

  constructor(
    private readonly head: string,
    private readonly row: string,
    private readonly maxRows: number,
    /** Appends one row's values to `params`, in the order of `row`'s placeholders; `shared` is what {@link run} was given for every row. */
    private readonly values: (row: T, params: unknown[], shared: C) => void,
  ) {}

  async run(db: Db, rows: readonly T[], shared: C): Promise<void> {
    let at = 0;
    for (const size of chunkSizes(rows.length, this.maxRows)) {
      const params: unknown[] = [];
      for (let i = at; i < at + size; i++) this.values(rows[i] as T, params, shared);
      await db.executeQuery(CompiledQuery.raw(this.text(size), params));
      at += size;
    }
  }

  private text(rows: number): string {
    let text = this.texts.get(rows);
    if (text === undefined) this.texts.set(rows, (text = this.head + Array.from({ length: rows }, () => this.row).join(', ')));
    return text;
  }
}
