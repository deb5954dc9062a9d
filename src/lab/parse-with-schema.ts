import type { z } from 'zod';
import { parseYaml } from './parse-yaml.ts';
import type { Problem } from './problem.ts';
import { problemsFromZod } from './zod-problems.ts';

export type SchemaResult<T> =
  { readonly ok: true; readonly data: T } | { readonly ok: false; readonly problems: readonly Problem[] };

/** YAML text through a schema: either the typed data or every syntax and schema problem. */
export function parseWithSchema<S extends z.ZodType>(text: string, schema: S): SchemaResult<z.output<S>> {
  const yaml = parseYaml(text);
  if (yaml.problems.length > 0) return { ok: false, problems: yaml.problems };
  const parsed = schema.safeParse(yaml.value, { reportInput: true });
  if (!parsed.success) return { ok: false, problems: problemsFromZod(parsed.error, schema) };
  return { ok: true, data: parsed.data };
}
