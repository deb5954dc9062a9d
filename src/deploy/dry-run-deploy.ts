import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_SCHEMA,
  parseManifest,
  renderManifest,
} from '../image/manifest.ts';
import { type DeployReporter, STEP_TITLES } from './deploy-events.ts';
import { deployHost } from './deploy-host.ts';
import type { DeploySettings } from './deploy-settings.ts';
import type { DeployTarget } from './deploy-target.ts';
import { imageLocation } from './image-location.ts';
import { type Recording, recordingPort } from './recording-port.ts';
import { SimulatedPi } from './simulated-pi.ts';

/** The image a dry run describes: read from a directory here, or stand-ins when there is none. */
export interface DryRunImage {
  readonly from: string;
  readonly files: Readonly<Record<string, string>>;
}

const SMALL_IMAGE_FILE = /^(disk|parts|.+-pt\.(sf|parted))$/;

/**
 * The host's image as `dirs` hold it (the share mounted here, the baked images): its manifest and
 * the small files deploy reads. No such image: a stand-in manifest, said so in the output.
 */
export async function readDryRunImage(
  host: string,
  version: string | undefined,
  dirs: readonly string[],
): Promise<DryRunImage> {
  for (const root of dirs) {
    const dir = imageLocation(root, host, version).dir;
    const text = await readFile(path.join(dir, MANIFEST_FILE), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const manifest = parseManifest(text, path.join(dir, MANIFEST_FILE));
    const files: Record<string, string> = { [MANIFEST_FILE]: text };
    for (const name of Object.keys(manifest.files).filter((n) => SMALL_IMAGE_FILE.test(n)))
      files[name] = await readFile(path.join(dir, name), 'utf8');
    return { from: dir, files };
  }
  return {
    from: `nowhere here: ${host}'s manifest and partition table are stand-ins`,
    files: standIn(host, version),
  };
}

function standIn(host: string, version: string | undefined): Record<string, string> {
  const manifest: Manifest = {
    schema: MANIFEST_SCHEMA,
    host,
    recipe: '?',
    version: version ?? `${host}-current`,
    inputKey: '',
    inputs: {
      cleanImage: { name: '?', id: '?' },
      labEntry: '',
      recipe: '',
      overlays: {},
      tools: {},
      pipeline: '',
    },
    partitions: {},
    written: { sda1: { '/pi-lab-image.json': '' } },
    files: {},
  };
  return { [MANIFEST_FILE]: renderManifest(manifest) };
}

/**
 * Runs the real step list against a simulated Pi that runs from its USB disk with a current
 * bootloader and the share not yet mounted: what it records is what a real run would send.
 */
export async function dryRunCommands(
  target: DeployTarget,
  settings: DeploySettings,
  image: DryRunImage,
): Promise<string[]> {
  const recording: Recording = { lines: [`# image: ${image.from}`] };
  const pi = new SimulatedPi({
    target,
    image: imageLocation(target.imageRoot, target.host, settings.version),
    imageFiles: image.files,
    startsAs: 'node',
    shareMounted: false,
  });
  const reporter: DeployReporter = {
    step: (_host, step, detail) =>
      recording.lines.push(`# ${step}: ${STEP_TITLES[step]}${detail ? ` (${detail})` : ''}`),
    progress: () => undefined,
    finished: () => undefined,
  };
  const outcome = await deployHost(target, settings, reporter, recordingPort(pi, recording));
  if (outcome.status !== 'deployed')
    recording.lines.push(`# a real run would stop here: ${outcome.error ?? outcome.status}`);
  return recording.lines;
}
