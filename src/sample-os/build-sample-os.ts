import { chmod, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';
import { UserError } from '../errors.ts';
import { command, type Command } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';
import { verifyHostTools, type HostTool } from '../tools/host-tools.ts';
import { renderCmdlineTxt, renderConfigTxt, type SampleFile } from '../sample/boot-files.ts';
import { writeBootFilesystem } from '../sample/boot-filesystem.ts';
import { renderFirstrunScript } from '../sample/firstrun-script.ts';
import { writePartitionTable } from '../sample/partition-table.ts';
import { populatedExt4Command } from '../sample/root-filesystem.ts';
import { planSampleLayout, SECTOR_BYTES, type SampleLayout } from '../sample/sample-layout.ts';
import { bootableCloudInitFiles } from './sample-os-cloud-init.ts';
import {
  renderCustomizeHook,
  renderInitramfsHook,
  stagedRootFiles,
  type StagedRootFile,
} from './sample-os-root.ts';
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
 * (as root, or unprivileged in a user namespace), laid out like Raspberry Pi OS Lite as Imager
 * leaves it, with the kernel and initramfs on the FAT partition and config.txt naming them.
 */
export async function buildSampleOs(
  spec: SampleOsSpec,
  outDir: string,
  log: (line: string) => void,
): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  await verifyHostTools(asRoot ? SAMPLE_OS_TOOLS : [...SAMPLE_OS_TOOLS, ...USER_NAMESPACE_TOOLS]);
  if (!asRoot) await verifySubordinateIds();
  // Hooks and staged files are read inside mmdebstrap's user namespace, where the builder's own uid
  // is nobody: they live in a directory anyone may read, not under a private home.
  const shared = await mkdtemp(path.join(os.tmpdir(), 'pi-lab-sample-os-'));
  await chmod(shared, 0o755);
  const rootTar = path.join(outDir, 'root.tar');
  const rootDir = path.join(outDir, 'root');
  const layout = planSampleLayout({
    path: path.join(outDir, SAMPLE_OS_FILES.disk),
    firstBoot: spec.flavour,
    bootSizeMiB: spec.bootSizeMiB,
    rootSizeMiB: spec.rootSizeMiB,
    configTxtEndsIn: 'cm5',
  });
  try {
    const publicKey = await writeKeyPair(outDir);
    const staging = path.join(shared, 'staging');
    await stageRootFiles(staging, stagedRootFiles(layout.diskId, spec.flavour));
    const hooks = {
      initramfs: await writeScript(path.join(shared, 'initramfs-hook.sh'), renderInitramfsHook(spec)),
      customize: await writeScript(
        path.join(shared, 'customize-hook.sh'),
        renderCustomizeHook(spec, staging),
      ),
    };
    log(
      `installing Debian ${spec.suite} (${spec.packages.length} packages and their dependencies) with mmdebstrap${asRoot ? '' : ' in a user namespace'}…`,
    );
    await runCommand(mmdebstrapCommand(spec, rootTar, hooks, asRoot ? 'root' : 'unshare'));
    log('writing the disk: FAT boot partition with kernel and first-boot files, ext4 root…');
    await writeFile(layout.path, '');
    await truncate(layout.path, layout.sectors * SECTOR_BYTES);
    await writePartitionTable(layout, layout.path);
    const bootFilesDir = path.join(shared, 'kernel');
    await mkdir(bootFilesDir);
    await runCommand(
      command('tar', [
        '-xf',
        rootTar,
        '-C',
        bootFilesDir,
        '--wildcards',
        './boot/vmlinuz-*',
        './boot/initrd.img-*',
      ]),
    );
    await writeBootFilesystem(
      layout,
      layout.path,
      shared,
      await bootFiles(layout, bootFilesDir, spec, publicKey),
      1,
    );
    await runCommand(asOwnersRoot(asRoot, populatedExt4FromTar(layout, rootTar, rootDir)));
  } finally {
    await runCommand(asOwnersRoot(asRoot, command('rm', ['-rf', rootDir, rootTar]))).catch(() => undefined);
    await rm(shared, { recursive: true, force: true });
  }
}

/** Unprivileged builds: mmdebstrap's unshare mode and ours need newuidmap and subordinate ids. */
const USER_NAMESPACE_TOOLS: readonly HostTool[] = [
  { program: 'newuidmap', debianPackage: 'uidmap' },
  { program: 'unshare', debianPackage: 'util-linux' },
];

async function verifySubordinateIds(): Promise<void> {
  const user = os.userInfo().username;
  const listed = (await readFile('/etc/subuid', 'utf8').catch(() => ''))
    .split('\n')
    .some((line) => line.split(':')[0] === user || line.split(':')[0] === String(os.userInfo().uid));
  if (!listed) {
    throw new UserError(
      `${user} has no subordinate uid range in /etc/subuid: the unprivileged build needs one.`,
      [
        `Add one: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`,
        'or build the sample as root once: sudo npm run sample',
      ],
    );
  }
}

/**
 * The root filesystem from the tarball, with every owner, mode and file capability it records: tar
 * and mke2fs run as root, or as root of a user namespace mapping the subordinate ids (--map-auto).
 * /dev stays empty: devtmpfs is mounted over it at boot.
 */
function populatedExt4FromTar(layout: SampleLayout, rootTar: string, rootDir: string): Command {
  const mke2fs = populatedExt4Command(layout, layout.path, rootDir);
  const script =
    'mkdir -p "$1" && tar -xpf "$2" -C "$1" --numeric-owner --xattrs --xattrs-include="*" --exclude="./dev/*" && shift 2 && exec "$@"';
  return command('sh', ['-c', script, 'sh', rootDir, rootTar, mke2fs.program, ...mke2fs.args], {
    ...(mke2fs.env ? { env: mke2fs.env } : {}),
  });
}

function asOwnersRoot(asRoot: boolean, cmd: Command): Command {
  if (asRoot) return cmd;
  return command('unshare', ['--map-auto', '--map-root-user', cmd.program, ...cmd.args], {
    ...(cmd.env ? { env: cmd.env } : {}),
  });
}

async function writeKeyPair(outDir: string): Promise<string> {
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'pi-lab sample lab' });
  await writeFile(path.join(outDir, SAMPLE_OS_FILES.privateKey), pair.private, { mode: 0o600 });
  await writeFile(path.join(outDir, SAMPLE_OS_FILES.publicKey), `${pair.public}\n`);
  return pair.public.trim();
}

async function stageRootFiles(staging: string, files: readonly StagedRootFile[]): Promise<void> {
  for (const file of files) {
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
      : Object.entries(bootableCloudInitFiles(layout.placeholder, publicKey)).map(([file, content]) => ({
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
