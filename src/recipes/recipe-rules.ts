import type { Problem } from '../lab/problem.ts';
import type { RecipeInput } from './recipe-schema.ts';

export interface RecipeRuleContext {
  readonly overlayNames: readonly string[];
}

export type RecipeRule = (recipe: RecipeInput, context: RecipeRuleContext) => Problem[];

export function overlaysAreUnique(recipe: RecipeInput): Problem[] {
  return recipe.overlays.flatMap((name, index) =>
    recipe.overlays.indexOf(name) < index
      ? [
          {
            path: `overlays[${index}]`,
            message: 'is listed twice',
            value: name,
            fix: 'list each overlay once',
          },
        ]
      : [],
  );
}

export function overlaysExist(recipe: RecipeInput, context: RecipeRuleContext): Problem[] {
  const available = context.overlayNames.length > 0 ? context.overlayNames.join(', ') : 'none';
  return recipe.overlays.flatMap((name, index) =>
    context.overlayNames.includes(name)
      ? []
      : [
          {
            path: `overlays[${index}]`,
            message: `has no directory overlays/${name}/`,
            value: name,
            fix: `create it, or name an existing overlay (${available})`,
          },
        ],
  );
}

export const recipeRules: readonly RecipeRule[] = [overlaysAreUnique, overlaysExist];
