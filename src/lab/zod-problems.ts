import { z } from 'zod';
import { closestName } from './closest-name.ts';
import { formatPath, type Problem } from './problem.ts';

/** Value checks attach `params.fix` to their issues; everything else gets a message written here. */
export function problemsFromZod(error: z.ZodError, schema: z.ZodType): Problem[] {
  return error.issues.flatMap((issue) => problemsFromIssue(issue, schema));
}

function problemsFromIssue(issue: z.core.$ZodIssue, schema: z.ZodType): Problem[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(schema, issue.path);
      return issue.keys.map((key) => ({
        path: formatPath([...issue.path, key]),
        message: 'unknown key',
        fix: unknownKeyFix(key, known),
      }));
    }
    case 'invalid_type':
      return [typeProblem(path, issue)];
    case 'custom': {
      const fix: unknown = issue.params?.fix;
      return [
        { path, message: issue.message, value: issue.input, ...(typeof fix === 'string' ? { fix } : {}) },
      ];
    }
    case 'invalid_union':
      return [{ path, message: 'has the wrong type', value: issue.input }];
    case 'too_small':
      return [{ path, message: `must be at least ${String(issue.minimum)}`, value: issue.input }];
    case 'too_big':
      return [{ path, message: `must be at most ${String(issue.maximum)}`, value: issue.input }];
    default:
      return [{ path, message: issue.message, value: issue.input }];
  }
}

function typeProblem(path: string, issue: z.core.$ZodIssueInvalidType): Problem {
  const expected = describeType(issue.expected);
  const key = String(issue.path.at(-1) ?? '');
  if (issue.input === undefined) {
    return { path, message: 'is missing', fix: key ? `add "${key}:" with ${expected}` : `write ${expected}` };
  }
  if (issue.path.length === 0 && issue.input === null) {
    return { path, message: 'the file is empty', fix: `write ${expected}` };
  }
  const quote =
    issue.expected === 'string' && (typeof issue.input === 'number' || typeof issue.input === 'boolean');
  return {
    path,
    message: `must be ${expected}`,
    value: issue.input,
    ...(quote ? { fix: `quote it: "${String(issue.input)}"` } : {}),
  };
}

function describeType(expected: string): string {
  switch (expected) {
    case 'object':
    case 'record':
      return 'a mapping (key: value lines)';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'int':
      return 'a whole number';
    default:
      return `a ${expected}`;
  }
}

function unknownKeyFix(key: string, known: readonly string[]): string {
  const suggestion = closestName(key, known);
  const list = known.length > 0 ? `known keys: ${known.join(', ')}` : 'remove it';
  return suggestion ? `did you mean "${suggestion}"? (${list})` : `remove it or check its spelling (${list})`;
}

/** The keys the schema allows for the object at `path`, found by walking the schema alongside the path. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodObject)
      current = (current.shape as Record<string, z.ZodType>)[String(segment)];
    else if (current instanceof z.ZodArray) current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return [];
    current = current && unwrap(current);
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault)
    return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodPipe) return unwrap(schema.out as z.ZodType);
  return schema;
}
