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

/** Runs a work when a slot is free; `ahead` works are started before any other waiting one. */
export type Limiter = <R>(work: () => Promise<R>, options?: { readonly ahead?: boolean }) => Promise<R>;

/** At most `limit` works at a time, each started in the order it arrived (`ahead` ones first). */
export function createLimiter(limit: number): Limiter {
  let running = 0;
  const ahead: (() => void)[] = [];
  const behind: (() => void)[] = [];
  return async (work, options = {}) => {
    if (running >= limit) await new Promise<void>((start) => (options.ahead ? ahead : behind).push(start));
    else running++;
    try {
      return await work();
    } finally {
      // The slot passes straight to the next work, if any, so that none can take it in between.
      const next = ahead.shift() ?? behind.shift();
      if (next) next();
      else running--;
    }
  };
}
