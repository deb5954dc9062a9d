import { createHash } from 'node:crypto';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { displayPath } from '../lab/display-path.ts';
import { checkKebabName } from '../lab/field-checks.ts';
import { parseWithSchema } from '../lab/parse-with-schema.ts';
import { invalidFileError } from '../lab/problem.ts';
import { readInputFile } from '../lab/read-input-file.ts';
import { listOverlayNames, listRecipeNames } from './list-project-names.ts';
import { recipeRules } from './recipe-rules.ts';
import { recipeSchema } from './recipe-schema.ts';
import type { Recipe } from './recipe-types.ts';

export interface RecipeOptions {
  readonly projectDir: string;
}

/** Reads and validates `recipes/<name>.yaml`; every problem is reported in one UserError. */
export async function loadRecipe(name: string, options: RecipeOptions): Promise<Recipe> {
  const badName = checkKebabName(name);
  if (badName) throw new UserError(`"${name}" is not a recipe name`, [`${badName.message} — ${badName.fix}`]);
  const file = path.join(options.projectDir, 'recipes', `${name}.yaml`);
  const shown = displayPath(file, options.projectDir);
  const available = (await listRecipeNames(options.projectDir)).join(', ') || 'none';
  const bytes = await readInputFile(
    file,
    shown,
    'recipe',
    `write it, or use an existing recipe (${available})`,
  );
  const parsed = parseWithSchema(bytes.toString('utf8'), recipeSchema);
  if (!parsed.ok) throw invalidFileError(shown, 'recipe', parsed.problems);
  const context = { overlayNames: await listOverlayNames(options.projectDir) };
  const problems = recipeRules.flatMap((rule) => rule(parsed.data, context));
  if (problems.length > 0) throw invalidFileError(shown, 'recipe', problems);
  return {
    name,
    file,
    description: parsed.data.description,
    overlays: parsed.data.overlays,
    configTxt: parsed.data.config_txt,
    digest: createHash('sha256').update(bytes).digest('hex'),
  };
}
