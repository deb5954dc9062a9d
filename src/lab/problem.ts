import { UserError } from '../errors.ts';

/** One thing wrong with an input file, located by a path such as `hosts[2].ip`. */
export interface Problem {
  /** Where in the file; empty for the file as a whole. */
  readonly path: string;
  readonly message: string;
  /** The offending value, shown as `(got ...)`; omitted when there is none (a missing key). */
  readonly value?: unknown;
  /** How to fix it. */
  readonly fix?: string;
  /** The file to name when it is not the one being validated (e.g. an overlay's source file). */
  readonly file?: string;
}

export function describeProblem(file: string, problem: Problem): string {
  const where = [problem.file ?? file, problem.path].filter(Boolean).join(': ');
  const got = problem.value === undefined ? '' : ` (got ${formatValue(problem.value)})`;
  const fix = problem.fix ? ` — ${problem.fix}` : '';
  return `${where}: ${problem.message}${got}${fix}`;
}

/** Every problem of one file in a single error, so the user fixes them all in one round. */
export function invalidFileError(file: string, kind: string, problems: readonly Problem[]): UserError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new UserError(
    `${file} is not a valid ${kind} (${count}):`,
    problems.map((problem) => describeProblem(file, problem)),
  );
}

const MAX_VALUE_LENGTH = 80;

export function formatValue(value: unknown): string {
  const text =
    typeof value === 'string'
      ? JSON.stringify(value)
      : ((JSON.stringify(value) as string | undefined) ?? String(value));
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

/** `['hosts', 2, 'ip']` → `hosts[2].ip`; keys that are not identifiers are quoted: `rootfs["/etc/x"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const key = String(segment);
      if (/^[A-Za-z_][\w-]*$/.test(key)) return index === 0 ? key : `.${key}`;
      return `[${JSON.stringify(key)}]`;
    })
    .join('');
}
