import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { runCommand, toolSearchPath } from '../exec/run-command.ts';

export interface HostTool {
  readonly program: string;
  readonly debianPackage: string;
}

export const BAKE_TOOLS: readonly HostTool[] = [
  { program: 'partclone.vfat', debianPackage: 'partclone' },
  { program: 'partclone.ext4', debianPackage: 'partclone' },
  { program: 'partclone.chkimg', debianPackage: 'partclone' },
  { program: 'mcopy', debianPackage: 'mtools' },
  { program: 'mdir', debianPackage: 'mtools' },
  { program: 'mmd', debianPackage: 'mtools' },
  { program: 'debugfs', debianPackage: 'e2fsprogs' },
  { program: 'pigz', debianPackage: 'pigz' },
  { program: 'zstd', debianPackage: 'zstd' },
  { program: 'cp', debianPackage: 'coreutils' },
];

export const IMPORT_TOOLS: readonly HostTool[] = [
  ...BAKE_TOOLS,
  { program: 'sfdisk', debianPackage: 'fdisk' },
  { program: 'parted', debianPackage: 'parted' },
  { program: 'xz', debianPackage: 'xz-utils' },
];

export const SAMPLE_TOOLS: readonly HostTool[] = [
  ...IMPORT_TOOLS,
  { program: 'mkfs.vfat', debianPackage: 'dosfstools' },
  { program: 'mke2fs', debianPackage: 'e2fsprogs' },
];

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function findProgram(program: string): Promise<string | undefined> {
  for (const dir of toolSearchPath().split(':')) {
    const candidate = path.join(dir, program);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** All missing tools in one message, with the one command that installs them. */
export async function verifyHostTools(tools: readonly HostTool[]): Promise<void> {
  const missing: HostTool[] = [];
  for (const tool of tools) if (!(await findProgram(tool.program))) missing.push(tool);
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => tool.debianPackage))].sort();
  throw new UserError(`Missing host tools: ${missing.map((tool) => tool.program).join(', ')}.`, [
    `Install them with: sudo apt-get install ${packages.join(' ')}`,
  ]);
}

const VERSION_PROBES: readonly [string, string, readonly string[]][] = [
  ['partclone', 'partclone.chkimg', ['-v']],
  ['mtools', 'mtools', ['--version']],
  ['e2fsprogs', 'debugfs', ['-V']],
  ['pigz', 'pigz', ['--version']],
  ['zstd', 'zstd', ['--version']],
];

/** Versions of every tool whose output ends up in an image: part of each host's inputs. */
export async function readToolVersions(): Promise<Record<string, string>> {
  // Entries in probe order, not in the order the probes finish: the manifest lists them as given.
  const probed = await Promise.all(
    VERSION_PROBES.map(async ([name, program, args]) => {
      const result = await runCommand(command(program, args), { okExitCodes: [1] });
      const text = `${result.stdout}\n${result.stderr}`;
      return [name, /v?(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? 'unknown'] as const;
    }),
  );
  return { 'node-zlib': process.versions.zlib, ...Object.fromEntries(probed) };
}
