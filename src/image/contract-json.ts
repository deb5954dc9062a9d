import type { z } from 'zod';
import { UserError } from '../errors.ts';

/** A manifest or marker that cannot be trusted: damaged, not ours, or from another schema. */
export class ContractError extends UserError {}

interface ContractSpec<T> {
  readonly where: string;
  readonly what: string;
  readonly schema: z.ZodType<T>;
  readonly version?: { readonly field: string; readonly expected: number };
  readonly remedy: string;
}

export function parseContractJson<T>(text: string, spec: ContractSpec<T>): T {
  const { where, what, schema, version, remedy } = spec;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ContractError(`${where} is not a ${what}: it is not JSON. What to do: ${remedy}.`);
  }
  if (version && typeof value === 'object' && value !== null) {
    const found = (value as Record<string, unknown>)[version.field];
    if (typeof found === 'number' && found !== version.expected)
      throw new ContractError(
        `${where} is a ${what} of schema ${found}; this pi-lab reads schema ${version.expected}. ` +
          `What to do: ${remedy}.`,
      );
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.length ? issue.path.join('.') : '(top)'}: ${issue.message}`,
  );
  throw new ContractError(`${where} is not a valid ${what}. What to do: ${remedy}.`, problems.slice(0, 5));
}
