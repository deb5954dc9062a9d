import { UserError } from '../errors.ts';

/** A `--flag S` number of seconds, from 1 to `max`; `fallback` when the flag is absent. */
export function secondsOption(
  value: string | undefined,
  flag: string,
  limits: { readonly fallback: number; readonly max: number; readonly whole?: boolean },
): number;
export function secondsOption(
  value: string | undefined,
  flag: string,
  limits: { readonly max: number; readonly whole?: boolean },
): number | undefined;
export function secondsOption(
  value: string | undefined,
  flag: string,
  limits: { readonly fallback?: number; readonly max: number; readonly whole?: boolean },
): number | undefined {
  if (value === undefined) return limits.fallback;
  const seconds = Number(value);
  const valid = limits.whole ? Number.isInteger(seconds) : Number.isFinite(seconds);
  if (!valid || seconds < 1 || seconds > limits.max)
    throw new UserError(
      `${flag} ${value} is not ${limits.whole ? 'whole seconds' : 'a number of seconds'} from 1 to ${limits.max}.`,
    );
  return seconds;
}
