import Mustache, { type TemplateSpans } from 'mustache';
import { UserError } from '../errors.ts';

/** Explicit, so that a global `Mustache.tags` change elsewhere cannot alter how our templates parse. */
export const TEMPLATE_TAGS: [string, string] = ['{{', '}}'];

export interface TemplateSyntaxError {
  readonly line: number | undefined;
  readonly message: string;
}

/** Parses a mustache template; a syntax error names the file and line. */
export function parseTemplate(text: string, source: string): TemplateSpans {
  try {
    return Mustache.parse(text, TEMPLATE_TAGS);
  } catch (error) {
    const { line, message } = describeSyntaxError(error, text);
    throw new UserError(`${source}: template syntax error`, [
      `${source}${line === undefined ? '' : `:${line}`}: ${message}`,
    ]);
  }
}

export function findTemplateSyntaxError(text: string): TemplateSyntaxError | undefined {
  try {
    Mustache.parse(text, TEMPLATE_TAGS);
    return undefined;
  } catch (error) {
    return describeSyntaxError(error, text);
  }
}

function describeSyntaxError(error: unknown, text: string): TemplateSyntaxError {
  const message = error instanceof Error ? error.message : String(error);
  const offset = /at (\d+)$/.exec(message)?.[1];
  return {
    line: offset === undefined ? undefined : lineAt(text, Number(offset)),
    message: `${message.replace(/ at \d+$/, '')} — close every {{tag}} and {{#section}}`,
  };
}

/** 1-based line number of a character offset. */
export function lineAt(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}
