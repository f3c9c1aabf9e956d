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
