import { ensureLinesForAllBoards } from '../firstboot/config-txt.ts';
import { patchCloudInit } from '../firstboot/patch-cloud-init.ts';
import { patchFirstrunHostname } from '../firstboot/patch-firstrun.ts';
import type { ManifestInputs } from '../image/manifest.ts';
import type { CleanImageFacts, FileEdit, HostPlan, RootVariant, SymlinkEdit } from './bake-types.ts';
import { digestOf } from './digest.ts';
import { IMAGE_MARKER_PATH, renderMarker } from '../image/marker.ts';
import { compareCodeUnits } from '../values/code-unit-order.ts';

/** Bumped when the pipeline's output for the same inputs changes. */
export const PIPELINE_VERSION = 'bake-6';

export interface OverlayFileSpec {
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface HostRecipeInputs {
  readonly hostName: string;
  readonly labEntryDigest: string;
  readonly placeholder: string;
  readonly recipe: { readonly name: string; readonly digest: string; readonly configTxt: readonly string[] };
  readonly overlayDigests: Readonly<Record<string, string>>;
  readonly bootFiles: readonly OverlayFileSpec[];
  readonly rootFiles: readonly OverlayFileSpec[];
  readonly symlinks: readonly SymlinkEdit[];
}

const FAT_FILE = { mode: 0o644, uid: 0, gid: 0 } as const;

function fatEdit(path: string, text: string, reason: string): FileEdit {
  return { path, content: Buffer.from(text, 'utf8'), ...FAT_FILE, reason };
}

/** Pure: from the clean image's facts and one host's rendered recipe, everything its image needs. */
export function planHost(
  facts: CleanImageFacts,
  inputs: HostRecipeInputs,
  tools: Readonly<Record<string, string>>,
): HostPlan {
  const rootVariant = planRootVariant(facts, inputs, tools);
  const contentEdits = [
    ...planFirstBootEdits(facts, inputs),
    ...planConfigEdits(facts, inputs),
    ...planOverlayBootEdits(inputs),
  ];
  const manifestInputs: ManifestInputs = {
    cleanImage: { name: facts.image.name, id: facts.id },
    labEntry: inputs.labEntryDigest,
    recipe: inputs.recipe.digest,
    overlays: inputs.overlayDigests,
    tools,
    pipeline: PIPELINE_VERSION,
  };
  const inputKey = digestOf({ manifestInputs, contentEdits, rootVariant: rootVariant?.key ?? null });
  const imageVersion = `${inputs.hostName}-${inputKey.slice(0, 12)}`;
  const marker = fatEdit(
    IMAGE_MARKER_PATH,
    renderMarker({ host: inputs.hostName, version: imageVersion, inputKey }),
    'image marker: which host and version this disk holds',
  );
  return {
    host: inputs.hostName,
    recipe: inputs.recipe.name,
    inputKey,
    imageVersion,
    inputs: manifestInputs,
    bootEdits: [...contentEdits, marker].sort((a, b) => compareCodeUnits(a.path, b.path)),
    rootVariant,
  };
}

function planFirstBootEdits(facts: CleanImageFacts, inputs: HostRecipeInputs): FileEdit[] {
  const boot = facts.bootFiles;
  if (boot.format === 'firstrun') {
    const script = patchFirstrunHostname(boot.firstrun ?? '', inputs.placeholder, inputs.hostName);
    return [fatEdit('/firstrun.sh', script, `hostname ${inputs.hostName} in every step of firstrun.sh`)];
  }
  const instanceId = `${inputs.hostName}-${digestOf({ id: facts.id, host: inputs.hostName }).slice(0, 12)}`;
  const patched = patchCloudInit(
    { userData: boot.userData ?? '', metaData: boot.metaData ?? '', cmdline: boot.cmdline },
    inputs.placeholder,
    inputs.hostName,
    instanceId,
  );
  const edits = [
    fatEdit('/user-data', patched.userData, `hostname: ${inputs.hostName}`),
    fatEdit('/meta-data', patched.metaData, `instance-id: ${instanceId}`),
  ];
  if (patched.cmdline !== boot.cmdline)
    edits.push(fatEdit('/cmdline.txt', patched.cmdline, `ds=nocloud;i=${instanceId}`));
  return edits;
}

function planConfigEdits(facts: CleanImageFacts, inputs: HostRecipeInputs): FileEdit[] {
  const updated = ensureLinesForAllBoards(facts.bootFiles.configTxt, inputs.recipe.configTxt);
  if (updated === facts.bootFiles.configTxt) return [];
  return [fatEdit('/config.txt', updated, `[all] ${inputs.recipe.configTxt.join(', ')}`)];
}

function planOverlayBootEdits(inputs: HostRecipeInputs): FileEdit[] {
  return inputs.bootFiles.map((file) => overlayEdit(file, inputs.recipe.name));
}

/** Only what ends up in the image: the overlay's own path on this machine must not change the key. */
function overlayEdit(file: OverlayFileSpec, recipe: string): FileEdit {
  const { path, content, mode, uid, gid } = file;
  return { path, content, mode, uid, gid, reason: `overlay file for recipe ${recipe}` };
}

function planRootVariant(
  facts: CleanImageFacts,
  inputs: HostRecipeInputs,
  tools: Readonly<Record<string, string>>,
): RootVariant | undefined {
  if (inputs.rootFiles.length === 0 && inputs.symlinks.length === 0) return undefined;
  const files = [...inputs.rootFiles]
    .sort((a, b) => compareCodeUnits(a.path, b.path))
    .map((file) => overlayEdit(file, inputs.recipe.name));
  const symlinks = [...inputs.symlinks].sort((a, b) => compareCodeUnits(a.path, b.path));
  const key = digestOf({
    pipeline: PIPELINE_VERSION,
    source: facts.root.files.map((file) => facts.fileDigests.get(file) ?? file),
    files: files.map((file) => ({
      path: file.path,
      content: file.content,
      mode: file.mode,
      uid: file.uid,
      gid: file.gid,
    })),
    symlinks,
    tools,
  });
  return { key, files, symlinks };
}
