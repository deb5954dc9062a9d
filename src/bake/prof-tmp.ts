const t0 = performance.now();
export function prof(label: string, since?: number): number {
  const now = performance.now();
  if (process.env.PROF) process.stderr.write(`[prof ${((now - t0) / 1000).toFixed(3)}] ${label}${since === undefined ? '' : ` ${((now - since) / 1000).toFixed(3)} s`}\n`);
  return now;
}
