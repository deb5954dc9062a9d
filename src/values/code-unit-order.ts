/**
 * Sort order that is the same on every machine: `localeCompare` follows the user's locale (in
 * Estonian "z" sorts after "s"), and what is digested or written must not.
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
