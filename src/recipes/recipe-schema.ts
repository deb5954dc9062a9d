import { z } from 'zod';
import { checkedString } from '../lab/checked-string.ts';
import { checkKebabName, checkNotEmpty } from '../lab/field-checks.ts';
import { checkConfigTxtLine } from './check-config-txt-line.ts';

export const recipeSchema = z.strictObject({
  description: checkedString(checkNotEmpty),
  overlays: z.array(checkedString(checkKebabName)).default([]),
  config_txt: z.array(checkedString(checkConfigTxtLine)).default([]),
});

export type RecipeInput = z.output<typeof recipeSchema>;
