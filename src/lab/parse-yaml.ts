import { parseDocument } from 'yaml';
import type { Problem } from './problem.ts';

export interface ParsedYaml {
  readonly value: unknown;
  readonly problems: readonly Problem[];
}

/** Parses one YAML document; syntax errors become problems located by line and column. */
export function parseYaml(text: string): ParsedYaml {
  const document = parseDocument(text);
  const problems = document.errors.map((error): Problem => {
    const position = error.linePos?.[0];
    return {
      path: position ? `line ${position.line}, column ${position.col}` : '',
      message: `YAML syntax error: ${firstLine(error.message)}`,
      fix: 'fix the YAML syntax there (mind indentation and closing brackets)',
    };
  });
  return { value: problems.length > 0 ? undefined : (document.toJS() as unknown), problems };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}
