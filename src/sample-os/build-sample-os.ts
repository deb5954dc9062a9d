import { chmod, mkdir, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { UserError } from '../errors.ts';
import { runCommand } from '../exec/run-command.ts';
import { verifyHostTools, type HostTool } from '../tools/host-tools.ts';
import { renderCloudInitFiles } from '../sample/cloud-init-files.ts';
import { renderCmdlineTxt, renderConfigTxt, type SampleFile } from '../sample/boot-files.ts';
import { writeBootFilesystem } from '../sample/boot-filesystem.ts';
import { renderFirstrunScript } from '../sample/firstrun-script.ts';
import { writePartitionTable } from '../sample/partition-table.ts';
import { populatedExt4Command } from '../sample/root-filesystem.ts';
import { planSampleLayout, SECTOR_BYTES, type SampleLayout } from '../sample/sample-layout.ts';
import { renderCustomizeHook, renderInitramfsHook, stagedRootFiles } from './sample-os-root.ts';
import { mmdebstrapCommand, type SampleOsSpec } from './sample-os-spec.ts';

export const SAMPLE_OS_TOOLS: readonly HostTool[] = [
  { program: 'mmdebstrap', debianPackage: 'mmdebstrap' },
  { program: 'mke2fs', debianPackage: 'e2fsprogs' },
  { program: 'mkfs.fat', debianPackage: 'dosfstools' },
  { program: 'mcopy', debianPackage: 'mtools' },
  { program: 'sfdisk', debianPackage: 'fdisk' },
];

/** The files of a built sample: a raw disk and the key pair its user accepts. */
export const SAMPLE_OS_FILES = { disk: 'disk.img', privateKey: 'id_ed25519', publicKey: 'id_ed25519.pub' };

/** Where the FAT partition is mounted at boot, as on Raspberry Pi OS Bookworm. */
const BOOT_DIR = '/boot/firmware';
export const SAMPLE_KERNEL = 'vmlinuz';
export const SAMPLE_INITRD = 'initrd.img';

/**
 * Builds the bootable sample into `outDir` (which must be empty): Debian's packages with mmdebstrap
 * (root: it installs packages into a chroot), laid out like Raspberry Pi OS Lite as Imager leaves
 * it, with the kernel and initramfs on the FAT partition and config.txt naming them.
 */
export async function buildSampleOs(
  spec: SampleOsSpec,
  outDir: string,
  log: (line: string) => void,
): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new UserError(
      'Building the bootable sample clean image needs root (mmdebstrap installs Debian packages).',
      [
        'Run it once as root: sudo npm run sample (later runs reuse the cached image),',
        'or use your own clean image (README: "Use your own clean image").',
      ],
    );
  }
  await verifyHostTools(SAMPLE_OS_TOOLS);
  const work = path.join(outDir, 'work');
  const rootDir = path.join(work, 'root');
  const layout = planSampleLayout({
    path: path.join(outDir, SAMPLE_OS_FILES.disk),
    firstBoot: spec.flavour,
    bootSizeMiB: spec.bootSizeMiB,
    rootSizeMiB: spec.rootSizeMiB,
    configTxtEndsIn: 'cm5',
  });
  try {
    const publicKey = await writeKeyPair(outDir);
    const staging = path.join(work, 'staging');
    await stageRootFiles(staging, layout.diskId);
    const initramfsHook = await writeScript(path.join(work, 'initramfs-hook.sh'), renderInitramfsHook(spec));
    const customizeHook = await writeScript(
      path.join(work, 'customize-hook.sh'),
      renderCustomizeHook(spec, staging),
    );
    log(
      `installing Debian ${spec.suite} (${spec.packages.length} packages and their dependencies) with mmdebstrap…`,
    );
    await runCommand(mmdebstrapCommand(spec, rootDir, initramfsHook, customizeHook));
    log('writing the disk: FAT boot partition with kernel and first-boot files, ext4 root…');
    await writeFile(layout.path, '');
    await truncate(layout.path, layout.sectors * SECTOR_BYTES);
    await writePartitionTable(layout, layout.path);
    await writeBootFilesystem(
      layout,
      layout.path,
      work,
      await bootFiles(layout, rootDir, spec, publicKey),
      1,
    );
    await runCommand(populatedExt4Command(layout, layout.path, rootDir));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeKeyPair(outDir: string): Promise<string> {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'pi-lab sample lab' });
  await writeFile(path.join(outDir, SAMPLE_OS_FILES.privateKey), pair.private, { mode: 0o600 });
  await writeFile(path.join(outDir, SAMPLE_OS_FILES.publicKey), `${pair.public}\n`);
  return pair.public.trim();
}

async function stageRootFiles(staging: string, diskId: string): Promise<void> {
  for (const file of stagedRootFiles(diskId)) {
    const target = path.join(staging, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content);
    await chmod(target, file.mode);
  }
}

async function writeScript(file: string, text: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o755 });
  return file;
}

async function bootFiles(
  layout: SampleLayout,
  rootDir: string,
  spec: SampleOsSpec,
  publicKey: string,
): Promise<SampleFile[]> {
  const bootNames = await readdir(path.join(rootDir, 'boot'));
  const kernel = bootNames.find((name) => name.startsWith('vmlinuz-'));
  const initrd = bootNames.find((name) => name.startsWith('initrd.img-'));
  if (!kernel || !initrd)
    throw new Error(`no kernel or initramfs in ${rootDir}/boot: ${bootNames.join(' ')}`);
  const firstBootFiles: SampleFile[] =
    spec.flavour === 'firstrun'
      ? [
          {
            path: 'firstrun.sh',
            content: renderFirstrunScript(layout.placeholder, '1.8', { publicKey, bootDir: BOOT_DIR }),
          },
        ]
      : Object.entries(renderCloudInitFiles(layout.placeholder, publicKey)).map(([file, content]) => ({
          path: file,
          content,
        }));
  const config = `${renderConfigTxt('cm5')}\n[all]\nkernel=${SAMPLE_KERNEL}\ninitramfs ${SAMPLE_INITRD} followkernel\n`;
  return [
    { path: 'cmdline.txt', content: renderCmdlineTxt(layout, BOOT_DIR) },
    { path: 'config.txt', content: config },
    { path: 'issue.txt', content: 'pi-lab sample: Debian 12 amd64 shaped like Raspberry Pi OS Lite\n' },
    { path: SAMPLE_KERNEL, content: await readFile(path.join(rootDir, 'boot', kernel)) },
    { path: SAMPLE_INITRD, content: await readFile(path.join(rootDir, 'boot', initrd)) },
    ...firstBootFiles,
  ];
}
