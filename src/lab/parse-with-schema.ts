import type { z } from 'zod';
import { parseYaml } from './parse-yaml.ts';
import type { Problem } from './problem.ts';
import { problemsFromZod } from './zod-problems.ts';

export type SchemaResult<T> =
  | { readonly ok: true; readonly data: T }
  | {
      readonly ok: false;
      readonly problems: readonly Problem[];
      /** The parsed YAML when only the schema failed (undefined after a syntax error), to check its parts. */
      readonly input: unknown;
    };

/** YAML text through a schema: either the typed data or every syntax and schema problem. */
export function parseWithSchema<S extends z.ZodType>(text: string, schema: S): SchemaResult<z.output<S>> {
  const yaml = parseYaml(text);
  if (yaml.problems.length > 0) return { ok: false, problems: yaml.problems, input: undefined };
  const parsed = schema.safeParse(yaml.value, { reportInput: true });
  if (!parsed.success)
    return { ok: false, problems: problemsFromZod(parsed.error, schema), input: yaml.value };
  return { ok: true, data: parsed.data };
}
