/** Figures such as seconds are measured, not exact: three decimals say all they can. */
const DECIMALS = 1000;

/** What `--json` prints: indented, every fractional number rounded (no `1.3315579530000001`). */
export function jsonOutput(value: unknown): string {
  return `${JSON.stringify(
    value,
    (_key, item: unknown) =>
      typeof item === 'number' && !Number.isInteger(item) ? Math.round(item * DECIMALS) / DECIMALS : item,
    2,
  )}\n`;
}
