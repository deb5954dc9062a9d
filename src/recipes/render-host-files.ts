import { UserError } from '../errors.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import { renderTemplate } from '../render/render-template.ts';
import type { Overlay, OverlayEntry, OverlaySymlink, Recipe } from './recipe-types.ts';
import { buildTemplateView, type TemplateView } from './template-view.ts';

export interface FileSpec {
  /** Absolute inside its target. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** The overlay file it came from. */
  readonly source: string;
}

/** Everything one host's image gets from its recipe's overlays, sorted by path. */
export interface HostFiles {
  readonly boot: readonly FileSpec[];
  readonly rootfs: readonly FileSpec[];
  readonly symlinks: readonly OverlaySymlink[];
}

/**
 * Applies the recipe's overlays in the recipe's order (a later overlay's file or symlink replaces an earlier one
 * at the same path) and renders every template; all render problems are reported together.
 */
export function renderHostFiles(
  lab: Lab,
  host: LabHost,
  recipe: Recipe,
  overlays: readonly Overlay[],
): HostFiles {
  const view = buildTemplateView(lab, host);
  const files = new Map<string, { target: OverlayEntry['target']; spec: FileSpec }>();
  const symlinks = new Map<string, OverlaySymlink>();
  const problems: string[] = [];
  for (const overlay of orderedOverlays(recipe, overlays)) {
    for (const entry of overlay.entries) {
      const content = renderEntry(entry, view, problems);
      if (content === undefined) continue;
      if (entry.target === 'rootfs') symlinks.delete(entry.path);
      files.set(`${entry.target}:${entry.path}`, { target: entry.target, spec: toSpec(entry, content) });
    }
    for (const symlink of overlay.symlinks) {
      files.delete(`rootfs:${symlink.path}`);
      symlinks.set(symlink.path, symlink);
    }
  }
  if (problems.length > 0) {
    throw new UserError(`cannot render the files of host ${host.name} (recipe ${recipe.name}):`, problems);
  }
  const specs = [...files.values()];
  return {
    boot: sortByPath(specs.filter((file) => file.target === 'boot').map((file) => file.spec)),
    rootfs: sortByPath(specs.filter((file) => file.target === 'rootfs').map((file) => file.spec)),
    symlinks: sortByPath([...symlinks.values()]),
  };
}

function orderedOverlays(recipe: Recipe, overlays: readonly Overlay[]): Overlay[] {
  return recipe.overlays.map((name) => {
    const overlay = overlays.find((candidate) => candidate.name === name);
    if (!overlay)
      throw new Error(`renderHostFiles: recipe ${recipe.name} needs overlay ${name}, which was not loaded`);
    return overlay;
  });
}

function renderEntry(entry: OverlayEntry, view: TemplateView, problems: string[]): Buffer | undefined {
  if (!entry.template) return entry.bytes;
  try {
    return Buffer.from(renderTemplate(entry.text ?? '', view, entry.source), 'utf8');
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    problems.push(...(error.details.length > 0 ? error.details : [error.message]));
    return undefined;
  }
}

function toSpec(entry: OverlayEntry, content: Buffer): FileSpec {
  return {
    path: entry.path,
    content,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    source: entry.source,
  };
}

function sortByPath<T extends { readonly path: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
