import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { displayPath } from './display-path.ts';
import { checkLabRules, type LabRuleContext } from './lab-rules.ts';
import { labSchema } from './lab-schema.ts';
import type { Lab } from './lab-types.ts';
import { parseWithSchema } from './parse-with-schema.ts';
import { invalidFileError } from './problem.ts';
import { readInputFile } from './read-input-file.ts';
import { resolveLab, resolveWellFormedParts } from './resolve-lab.ts';

export interface LabOptions {
  readonly projectDir: string;
}

export interface ParseLabOptions extends LabOptions {
  /** Whether `recipes/<name>.yaml` exists; defaults to looking in projectDir. */
  readonly recipeExists?: (name: string) => boolean;
}

/** Reads, validates and resolves a lab file; `file` is relative to the working directory. */
export async function loadLab(file: string, options: LabOptions): Promise<Lab> {
  const absolute = path.resolve(file);
  const shown = displayPath(absolute, options.projectDir);
  const bytes = await readInputFile(absolute, shown, 'lab file', 'pass --lab <file> to use another lab file');
  const recipes = await listRecipeFiles(options.projectDir);
  return parseLab(bytes.toString('utf8'), absolute, {
    ...options,
    recipeExists: (name) => recipes.has(`${name}.yaml`),
  });
}

/**
 * Validates lab file text: throws one UserError listing every problem, or returns the resolved lab.
 * Field errors do not hide cross-field ones: the rules also run over the parts that are well-formed.
 */
export function parseLab(text: string, file: string, options: ParseLabOptions): Lab {
  const absolute = path.resolve(file);
  const shown = displayPath(absolute, options.projectDir);
  const context: LabRuleContext = {
    projectDir: options.projectDir,
    recipeExists:
      options.recipeExists ??
      ((name) => existsSync(path.join(options.projectDir, 'recipes', `${name}.yaml`))),
  };
  const parsed = parseWithSchema(text, labSchema);
  if (!parsed.ok) {
    const parts = resolveWellFormedParts(parsed.input, absolute);
    throw invalidFileError(shown, 'lab file', [...parsed.problems, ...checkLabRules(parts, context)]);
  }
  const lab = resolveLab(parsed.data, absolute, options.projectDir);
  const problems = checkLabRules(lab, context);
  if (problems.length > 0) throw invalidFileError(shown, 'lab file', problems);
  return lab;
}

async function listRecipeFiles(projectDir: string): Promise<Set<string>> {
  try {
    return new Set(await readdir(path.join(projectDir, 'recipes')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
}
