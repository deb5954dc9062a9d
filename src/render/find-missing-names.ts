import type { TemplateSpans } from 'mustache';
import { lineAt } from './parse-template.ts';

/** A name the template uses that the view cannot supply as a value. */
export interface MissingName {
  readonly name: string;
  readonly line: number;
  readonly reason: string;
  /** Names that do resolve where this one was used, for the hint. */
  readonly known: readonly string[];
}

type Found = { readonly value: unknown } | undefined;

/**
 * Walks parsed tokens against the view the way mustache resolves names (innermost context first, dotted names
 * tried whole in each context), but only own properties count and undefined or null counts as missing.
 */
export function findMissingNames(tokens: TemplateSpans, view: object, text: string): MissingName[] {
  const found: MissingName[] = [];
  walk(tokens, [view], text, found);
  const seen = new Set<string>();
  return found.filter((entry) => {
    const key = `${entry.line}:${entry.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function walk(tokens: TemplateSpans, stack: readonly unknown[], text: string, out: MissingName[]): void {
  for (const token of tokens) {
    const [type, name, start] = token;
    const line = lineAt(text, start);
    if (type === 'name' || type === '&') {
      const found = lookup(name, stack);
      if (!found) out.push(missing(name, line, stack, 'is not in the view'));
      else if (typeof found.value === 'object') {
        out.push(
          missing(name, line, stack, `is a ${Array.isArray(found.value) ? 'list' : 'mapping'}, not a value`),
        );
      }
    } else if (type === '#' || type === '^') {
      const found = lookup(name, stack);
      if (!found) {
        out.push(missing(name, line, stack, 'is not in the view'));
        continue;
      }
      const children = token[4];
      if (!Array.isArray(children)) continue;
      for (const context of sectionContexts(type, found.value, stack)) walk(children, context, text, out);
    } else if (type === '>') {
      out.push({ name, line, reason: 'is a partial; partials are not supported', known: [] });
    }
  }
}

/** The context stacks a section's body is rendered with: none when mustache would skip it. */
function sectionContexts(type: string, value: unknown, stack: readonly unknown[]): (readonly unknown[])[] {
  const empty = !value || (Array.isArray(value) && value.length === 0);
  if (type === '^') return empty ? [stack] : [];
  if (empty) return [];
  if (Array.isArray(value)) return (value as unknown[]).map((item) => [...stack, item]);
  if (typeof value === 'object' || typeof value === 'string' || typeof value === 'number')
    return [[...stack, value]];
  return [stack];
}

function lookup(name: string, stack: readonly unknown[]): Found {
  if (name === '.') return { value: stack.at(-1) };
  const segments = name.split('.');
  for (let depth = stack.length - 1; depth >= 0; depth--) {
    const value = resolve(stack[depth], segments);
    if (value) return value;
  }
  return undefined;
}

function resolve(context: unknown, segments: readonly string[]): Found {
  let value = context;
  for (const segment of segments) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value === undefined || value === null ? undefined : { value };
}

function missing(name: string, line: number, stack: readonly unknown[], reason: string): MissingName {
  return { name, line, reason, known: knownNames(name, stack) };
}

/** Under the longest prefix of `name` that resolves, or else the names in scope, innermost first. */
function knownNames(name: string, stack: readonly unknown[]): string[] {
  const segments = name.split('.');
  for (let length = segments.length - 1; length > 0; length--) {
    const prefix = segments.slice(0, length);
    const found = lookup(prefix.join('.'), stack);
    if (found && typeof found.value === 'object' && !Array.isArray(found.value)) {
      return Object.keys(found.value as object).map((key) => `${prefix.join('.')}.${key}`);
    }
  }
  const names = [...stack]
    .reverse()
    .flatMap((context) =>
      typeof context === 'object' && context !== null && !Array.isArray(context) ? Object.keys(context) : [],
    );
  return [...new Set(names)];
}
