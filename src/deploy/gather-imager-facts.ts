import path from 'node:path';
import { describeError } from '../errors.ts';
import { ContractError } from '../image/contract-json.ts';
import { type Manifest, MANIFEST_FILE, parseManifest } from '../image/manifest.ts';
import type { RemoteHost } from './remote-port.ts';
import type { DeployTarget } from './deploy-target.ts';
import type { ImageLocation } from './image-location.ts';
import { type ImagerFacts, parseFindmnt, parseLsblk } from './imager-facts.ts';
import { checkSums, findMount, findTools, listBlockDevices, readFileCommand } from './remote-commands.ts';

const SAFE_FILE_NAME = /^[\w.+-]+$/;

/** Reads everything preflight judges, without changing anything on the imager. */
export async function gatherImagerFacts(
  session: RemoteHost,
  target: DeployTarget,
  image: ImageLocation,
  hostname: string,
  timeoutSeconds: number,
): Promise<ImagerFacts> {
  const run = (cmd: Parameters<RemoteHost['exec']>[0], stdin?: string) =>
    session.exec(cmd, { timeoutSeconds, ...(stdin === undefined ? {} : { stdin }) });
  const devices = parseLsblk((await session.run(listBlockDevices(), { timeoutSeconds })).stdout);
  const root = parseFindmnt((await run(findMount('/'))).stdout);
  const boot = parseFindmnt((await run(findMount('/boot/firmware'))).stdout);
  // As root, where they will run: sudo's secure_path has the sbin directories a user's PATH lacks.
  const tools = new Set(
    (await session.root.exec(findTools(), { timeoutSeconds })).stdout
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean),
  );
  const imageRootMount = parseFindmnt((await run(findMount(target.imageRoot))).stdout);

  const manifestText = await run(readFileCommand(path.posix.join(image.dir, MANIFEST_FILE)));
  let manifest: Manifest | undefined;
  let damaged: string | undefined;
  try {
    manifest =
      manifestText.exitCode === 0
        ? parseManifest(manifestText.stdout, path.posix.join(image.dir, MANIFEST_FILE))
        : undefined;
  } catch (error) {
    if (!(error instanceof ContractError)) throw error;
    damaged = describeError(error);
  }
  const base = {
    hostname,
    devices,
    tools,
    ...(root ? { root } : {}),
    ...(boot && boot.target !== '/' ? { boot } : {}),
    ...(imageRootMount ? { imageRootMount } : {}),
  };
  if (damaged !== undefined) return { ...base, image: { missing: damaged } };
  if (!manifest)
    return {
      ...base,
      image: {
        missing: `no published image at ${image.dir} (${MANIFEST_FILE} unreadable): publish it, and check that the share is mounted at ${target.imageRoot}`,
      },
    };
  const diskBytes = await recordedDiskBytes(session, image, manifest, timeoutSeconds);
  const names = Object.keys(manifest.files);
  const unsafe = names.filter((name) => !SAFE_FILE_NAME.test(name));
  if (unsafe.length > 0)
    return { ...base, image: { missing: `the manifest names unexpected files: ${unsafe.join(', ')}` } };
  const list = names
    .map((name) => `${manifest.files[name]?.sha256 ?? ''}  ${path.posix.join(image.dir, name)}\n`)
    .join('');
  const checked = await session.root.exec(checkSums(), { timeoutSeconds, stdin: list });
  const failures =
    checked.exitCode === 0 ? [] : failedFiles(checked.stdout + checked.stderr, image.dir, names);
  return { ...base, image: { manifest, diskBytes }, checksumFailures: failures };
}

/** `Disk /dev/sda: <N>s` in the image's `<disk>-pt.parted`: the size the image needs. */
async function recordedDiskBytes(
  session: RemoteHost,
  image: ImageLocation,
  manifest: Manifest,
  timeoutSeconds: number,
): Promise<number> {
  const device = (
    await session.exec(readFileCommand(path.posix.join(image.dir, 'disk')), { timeoutSeconds })
  ).stdout.trim();
  if (!device || !(`${device}-pt.parted` in manifest.files)) return 0;
  const parted = await session.exec(readFileCommand(path.posix.join(image.dir, `${device}-pt.parted`)), {
    timeoutSeconds,
  });
  const sectors = /^Disk \/dev\/\S+: (\d+)s$/m.exec(parted.stdout)?.[1];
  return sectors ? Number(sectors) * 512 : 0;
}

function failedFiles(output: string, dir: string, names: readonly string[]): string[] {
  const failed = names.filter((name) => output.includes(`${path.posix.join(dir, name)}: FAILED`));
  return failed.length > 0 ? failed : ['(sha256sum failed: see the imager)'];
}
