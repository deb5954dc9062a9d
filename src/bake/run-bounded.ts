/**
 * Runs `work` for every item, at most `limit` at a time; results keep the items' order. When one
 * throws, the others still finish what they started before the error is passed on, so nothing is
 * cleaned up under a worker's feet.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  let failure: { error: unknown } | undefined;
  const guarded = async (): Promise<void> => {
    try {
      await worker();
    } catch (error) {
      failure ??= { error };
      next = items.length;
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, guarded));
  if (failure) throw failure.error;
  return results;
}
