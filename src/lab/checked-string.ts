import { z } from 'zod';
import type { ValueCheck } from './field-checks.ts';

/** A string schema that runs a value check and reports its fix with the issue. */
export function checkedString(check: ValueCheck) {
  return z.string().superRefine((value, context) => {
    const problem = check(value);
    if (problem)
      context.addIssue({
        code: 'custom',
        message: problem.message,
        input: value,
        params: { fix: problem.fix },
      });
  });
}
