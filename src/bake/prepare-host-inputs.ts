import type { Lab, LabHost } from '../lab/lab-types.ts';
import { loadOverlay } from '../recipes/load-overlay.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import type { Overlay, Recipe } from '../recipes/recipe-types.ts';
import { renderHostFiles } from '../recipes/render-host-files.ts';
import { UserError, describeError } from '../errors.ts';
import { digestOf } from './digest.ts';
import type { HostRecipeInputs } from './plan-host.ts';

/** Loads every recipe and overlay once and renders each host's files; all problems reported together. */
export async function prepareHostInputs(
  lab: Lab,
  hosts: readonly LabHost[],
  projectDir: string,
): Promise<HostRecipeInputs[]> {
  const recipes = new Map<string, Recipe>();
  const overlays = new Map<string, Overlay>();
  const problems: string[] = [];
  const inputs: HostRecipeInputs[] = [];
  for (const host of hosts) {
    try {
      const recipe = await cached(recipes, host.recipe ?? '', (name) => loadRecipe(name, { projectDir }));
      const hostOverlays: Overlay[] = [];
      for (const name of recipe.overlays)
        hostOverlays.push(await cached(overlays, name, (n) => loadOverlay(n, { projectDir })));
      const files = renderHostFiles(lab, host, recipe, hostOverlays);
      inputs.push({
        hostName: host.name,
        // A host's own MAC and address reach its image only through rendered files, which the
        // input key covers: pi3's new MAC re-bakes the router that lists it, not pi3.
        labEntryDigest: digestOf({ name: host.name, recipe: host.recipe }),
        placeholder: lab.image.placeholder,
        recipe: { name: recipe.name, digest: recipe.digest, configTxt: recipe.configTxt },
        overlayDigests: Object.fromEntries(hostOverlays.map((overlay) => [overlay.name, overlay.digest])),
        bootFiles: files.boot,
        rootFiles: files.rootfs,
        symlinks: files.symlinks.map((link) => ({ path: link.path, linkTo: link.linkTo })),
      });
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      problems.push(`${host.name}: ${describeError(error)}`);
    }
  }
  if (problems.length > 0) throw new UserError('Cannot render the recipes:', problems);
  return inputs;
}

async function cached<T>(cache: Map<string, T>, key: string, load: (key: string) => Promise<T>): Promise<T> {
  const hit = cache.get(key);
  if (hit) return hit;
  const value = await load(key);
  cache.set(key, value);
  return value;
}
