import DataLoader from 'dataloader';

/**
 * Calls that arrive during one turn of the event loop go to `batch` together, as one round trip
 * (a statement, an addBulk); each caller gets its own answer. Nothing is remembered beyond the
 * batch: a later call reads again. `keyOf` names a key for DataLoader's bookkeeping when keys
 * are objects.
 */
export function coalesced<K, V>(
  batch: (keys: readonly K[]) => Promise<V[]>,
  opts: { maxBatchSize: number; keyOf?: (key: K) => string },
): DataLoader<K, V, string | K> {
  return new DataLoader<K, V, string | K>(batch, {
    cache: false,
    maxBatchSize: opts.maxBatchSize,
    batchScheduleFn: (run) => setImmediate(run),
    ...(opts.keyOf ? { cacheKeyFn: opts.keyOf } : {}),
  });
}
