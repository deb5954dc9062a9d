import {
  copyFile,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { makeSampleDisk } from '../src/sample/make-sample-disk.ts';
import { formatCommand, partitionImages, runTimed, type BenchCommand } from './measure.ts';

/** Bump when the way the clean image is built changes: a cached image of another version is rebuilt. */
const SETUP_VERSION = 1;
const MIB = 1024 * 1024;
/** ≥ 1.5 GB (decimal) also when read as GiB. */
const ROOT_FILE_BYTES = 1.5 * 1024 * MIB;
const ROOT_SOURCES = ['/usr/bin', '/usr/lib', '/usr/share'];
/** Raspberry Pi OS's boot partition is 512 MiB; its content is kernels, initramfs and dtbs. */
const BOOT_SIZE_MIB = 512;
/**
 * Half already-compressed files (like kernel*.img and initramfs), half binaries (like start*.elf and
 * dtbs), none bigger than a Pi kernel or initramfs; each pool fills up to its target, never past it.
 */
const BOOT_POOLS: readonly BootPool[] = [
  {
    name: 'packed',
    roots: ['/usr/lib', '/usr/share'],
    pattern: /\.(gz|xz|zst|bz2|lz4|jar|zip)$/,
    minBytes: 256 * 1024,
    maxBytes: 12_000_000,
    targetBytes: 35_000_000,
  },
  {
    name: 'binary',
    roots: ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu'],
    pattern: /\.so(\.[\d.]+)?$/,
    minBytes: 64 * 1024,
    maxBytes: 12_000_000,
    targetBytes: 35_000_000,
  },
];
const NODE_COUNT = 10;

interface BootPool {
  readonly name: string;
  readonly roots: readonly string[];
  readonly pattern: RegExp;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly targetBytes: number;
}

export interface BenchPaths {
  readonly benchDir: string;
  readonly cleanDir: string;
  readonly labFile: string;
  readonly workDir: string;
  readonly resultsFile: string;
}

export function benchPaths(projectDir: string): BenchPaths {
  const benchDir = path.join(projectDir, '.bench');
  return {
    benchDir,
    cleanDir: path.join(benchDir, 'clean', 'pi-img'),
    labFile: path.join(benchDir, 'lab.yaml'),
    workDir: path.join(benchDir, 'work'),
    resultsFile: path.join(benchDir, 'results.json'),
  };
}

export interface SetupFacts {
  readonly version: number;
  readonly root: {
    readonly files: number;
    readonly bytes: number;
    readonly sizeMiB: number;
    readonly sources: readonly string[];
  };
  readonly boot: { readonly files: number; readonly bytes: number; readonly sizeMiB: number };
  readonly image: Readonly<Record<string, number>>;
  readonly buildSeconds: number;
  readonly commands: readonly string[];
}

function setupFactsFile(paths: BenchPaths): string {
  return path.join(path.dirname(paths.cleanDir), 'setup.json');
}

/** The cached clean image, built when missing (or made by another SETUP_VERSION). */
export async function ensureCleanImage(projectDir: string, log: (line: string) => void): Promise<SetupFacts> {
  const paths = benchPaths(projectDir);
  const cached = await readSetupFacts(paths);
  if (cached && (await exists(paths.cleanDir))) {
    log(`clean image: ${path.relative(projectDir, paths.cleanDir)} (cached; remove .bench/clean to rebuild)`);
    return cached;
  }
  return buildCleanImage(projectDir, paths, log);
}

async function readSetupFacts(paths: BenchPaths): Promise<SetupFacts | undefined> {
  try {
    const facts = JSON.parse(await readFile(setupFactsFile(paths), 'utf8')) as SetupFacts;
    return facts.version === SETUP_VERSION ? facts : undefined;
  } catch {
    return undefined;
  }
}

interface SampleDiskFacts {
  readonly version: number;
  readonly root: SetupFacts['root'];
  readonly boot: SetupFacts['boot'];
  readonly makeSampleDisk: string;
}

async function buildCleanImage(
  projectDir: string,
  paths: BenchPaths,
  log: (line: string) => void,
): Promise<SetupFacts> {
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
  const cleanParent = path.dirname(paths.cleanDir);
  const staging = path.join(paths.benchDir, 'setup');
  await rm(cleanParent, { recursive: true, force: true });
  log('building the clean image (once; cached under .bench/clean)');
  const diskFile = path.join(staging, 'disk.img');
  const disk = await ensureSampleDisk(projectDir, staging, diskFile, log, elapsed);

  const importCmd: BenchCommand = {
    program: 'npm',
    args: [
      'run',
      '--silent',
      'import',
      '--',
      diskFile,
      '--name',
      path.basename(paths.cleanDir),
      '--out',
      cleanParent,
    ].map((arg) => (path.isAbsolute(arg) ? path.relative(projectDir, arg) : arg)),
  };
  log(`  ${formatCommand(importCmd)}`);
  const imported = await runTimed(importCmd, { cwd: projectDir });
  log(`  imported in ${imported.seconds.toFixed(0)} s (${elapsed()})`);

  const image: Record<string, number> = {};
  for (const name of await partitionImages(paths.cleanDir))
    image[name] = (await stat(path.join(paths.cleanDir, name))).size;
  const facts: SetupFacts = {
    version: SETUP_VERSION,
    root: disk.root,
    boot: disk.boot,
    image,
    buildSeconds: (performance.now() - started) / 1000,
    commands: [disk.makeSampleDisk, formatCommand(importCmd)],
  };
  await writeJsonAtomically(setupFactsFile(paths), facts);
  await rm(staging, { recursive: true, force: true });
  log(
    `clean image ready: ${Object.entries(image)
      .map(([name, size]) => `${name} ${formatBytes(size)}`)
      .join(', ')} (${elapsed()})`,
  );
  return facts;
}

/** The raw disk, kept (with disk.json) until the import succeeds, so a failed import does not copy again. */
async function ensureSampleDisk(
  projectDir: string,
  staging: string,
  diskFile: string,
  log: (line: string) => void,
  elapsed: () => string,
): Promise<SampleDiskFacts> {
  const factsFile = path.join(staging, 'disk.json');
  try {
    const cached = JSON.parse(await readFile(factsFile, 'utf8')) as SampleDiskFacts;
    if (cached.version === SETUP_VERSION && (await exists(diskFile))) {
      log(`  raw disk: ${path.relative(projectDir, diskFile)} (kept from an earlier attempt)`);
      return cached;
    }
  } catch {
    // no usable earlier attempt
  }
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });

  const rootExtra = path.join(staging, 'root-extra');
  log(`  listing regular files under ${ROOT_SOURCES.join(', ')}`);
  const rootCandidates = await listFiles(ROOT_SOURCES, () => true, 0);
  log(
    `  ${rootCandidates.length} candidates, ${formatBytes(sum(rootCandidates))}; copying an even spread of them`,
  );
  const root = await copySpread(
    rootCandidates,
    ROOT_FILE_BYTES,
    (file) => path.join(rootExtra, file.path),
    log,
  );
  log(`  root: ${root.files} real files, ${formatBytes(root.bytes)} (${elapsed()})`);

  const bootExtra = path.join(staging, 'boot-extra');
  const boot = { files: 0, bytes: 0, allocated: 0 };
  for (const pool of BOOT_POOLS) {
    const candidates = uniqueBaseNames(
      await listFiles(pool.roots, (name) => pool.pattern.test(name), pool.minBytes, pool.maxBytes),
    );
    const copied = await copySpread(
      candidates,
      pool.targetBytes,
      (file) => path.join(bootExtra, 'firmware', pool.name, path.basename(file.path)),
      () => undefined,
      { neverPast: true },
    );
    boot.files += copied.files;
    boot.bytes += copied.bytes;
    boot.allocated += copied.allocated;
  }
  log(`  boot: ${boot.files} real files, ${formatBytes(boot.bytes)} (${elapsed()})`);
  if (boot.allocated > (BOOT_SIZE_MIB - 64) * MIB)
    throw new Error('boot files do not fit the boot partition');

  // ext4 needs room beyond the data: inode tables, the journal, directories, reserved blocks.
  const rootSizeMiB = Math.ceil((root.allocated * 1.25) / MIB) + 512;
  const call = `makeSampleDisk({ path: '${path.relative(projectDir, diskFile)}', firstBoot: 'firstrun', bootSizeMiB: ${BOOT_SIZE_MIB}, rootSizeMiB: ${rootSizeMiB}, bootExtraDir, rootExtraDir })`;
  log(`  ${call}`);
  await makeSampleDisk({
    path: diskFile,
    firstBoot: 'firstrun',
    bootSizeMiB: BOOT_SIZE_MIB,
    rootSizeMiB,
    bootExtraDir: bootExtra,
    rootExtraDir: rootExtra,
  });
  log(`  disk written (${elapsed()})`);
  await rm(rootExtra, { recursive: true, force: true });
  await rm(bootExtra, { recursive: true, force: true });
  const facts: SampleDiskFacts = {
    version: SETUP_VERSION,
    root: { files: root.files, bytes: root.bytes, sizeMiB: rootSizeMiB, sources: ROOT_SOURCES },
    boot: { files: boot.files, bytes: boot.bytes, sizeMiB: BOOT_SIZE_MIB },
    makeSampleDisk: call,
  };
  await writeJsonAtomically(factsFile, facts);
  return facts;
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await writeFile(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
}

interface Candidate {
  /** Absolute source path. */
  readonly source: string;
  /** The same path without the leading '/'. */
  readonly path: string;
  readonly size: number;
  readonly mtimeSeconds: number;
}

/**
 * Regular files only (no symlinks, devices, sockets), sorted by path. Names are kept to a safe
 * character set: the sample writer hands every path to debugfs inside double quotes.
 */
async function listFiles(
  roots: readonly string[],
  accept: (name: string) => boolean,
  minBytes: number,
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<Candidate[]> {
  const result: Candidate[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return; // unreadable directory
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (!/^[\w.+@,=~-]+$/.test(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && accept(entry.name)) {
        const info = await lstat(full).catch(() => undefined);
        if (info?.isFile() && info.size >= minBytes && info.size <= maxBytes) {
          result.push({
            source: full,
            path: full.slice(1),
            size: info.size,
            mtimeSeconds: info.mtimeMs / 1000,
          });
        }
      }
    }
  };
  for (const root of roots) await walk(root);
  return result;
}

/** The first of each base name (case-insensitive, as FAT compares them), in path order. */
function uniqueBaseNames(candidates: readonly Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    const key = path.basename(candidate.path).toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Copies every k-th candidate (k = total / target, rounded up), then the next offset, and so on,
 * until `targetBytes` of file data are copied: a deterministic spread over the whole sorted tree
 * rather than its alphabetical head. Files that cannot be read are skipped; with `neverPast`, so are
 * files that would take the total past the target.
 */
async function copySpread(
  candidates: readonly Candidate[],
  targetBytes: number,
  destination: (file: Candidate) => string,
  log: (line: string) => void,
  options: { readonly neverPast?: boolean } = {},
): Promise<{ files: number; bytes: number; allocated: number }> {
  const total = sum(candidates);
  if (total < targetBytes) {
    throw new Error(
      `only ${formatBytes(total)} of suitable files on this machine; the bench needs ${formatBytes(targetBytes)}`,
    );
  }
  const stride = Math.ceil(total / targetBytes);
  let files = 0;
  let bytes = 0;
  let allocated = 0;
  let nextReport = 256 * MIB;
  const madeDirs = new Set<string>();
  for (let offset = 0; offset < stride && bytes < targetBytes; offset++) {
    for (let index = offset; index < candidates.length && bytes < targetBytes; index += stride) {
      const file = candidates[index];
      if (!file || (options.neverPast && bytes + file.size > targetBytes)) continue;
      const target = destination(file);
      const dir = path.dirname(target);
      if (!madeDirs.has(dir)) {
        await mkdir(dir, { recursive: true });
        madeDirs.add(dir);
      }
      try {
        await copyFile(file.source, target);
        await utimes(target, file.mtimeSeconds, file.mtimeSeconds);
      } catch {
        await rm(target, { force: true });
        continue;
      }
      files++;
      bytes += file.size;
      allocated += Math.ceil(file.size / 4096) * 4096 + 256;
      if (bytes >= nextReport) {
        log(`    ${formatBytes(bytes)} / ${formatBytes(targetBytes)}`);
        nextReport += 256 * MIB;
      }
    }
  }
  return { files, bytes, allocated };
}

/** The bench lab: a router and NODE_COUNT nodes; every address is from a documentation range. */
export async function writeBenchLab(projectDir: string): Promise<string> {
  const paths = benchPaths(projectDir);
  const nodes = Array.from({ length: NODE_COUNT }, (_, index) => {
    const n = index + 1;
    const mac = `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`;
    return `  - { name: pi${n}, recipe: node, mac: '${mac}', ip: 198.51.100.${10 + n} }`;
  });
  const text = [
    '# Written by npm run bench: a router and ten nodes. Addresses are from TEST-NET-2 (RFC 5737); nothing connects.',
    'network:',
    '  subnet: 198.51.100.0/24',
    '  router: 198.51.100.1',
    '  dhcp: { start: 198.51.100.100, end: 198.51.100.199, lease: 24h }',
    '  lan: eth0',
    '  uplink: wlan0',
    'image:',
    `  clean: ${path.relative(projectDir, paths.cleanDir)}`,
    '  placeholder: changeme',
    'hosts:',
    '  - { name: pi0, recipe: router }',
    ...nodes,
    '',
  ].join('\n');
  await mkdir(paths.benchDir, { recursive: true });
  await writeFile(paths.labFile, text);
  return paths.labFile;
}

/**
 * Root filesystem changes for the bench: the lab file with another DHCP lease (the router's
 * dnsmasq configuration), and a project copy whose sshd drop-in (in every host's root) has one
 * more line.
 */
export async function writeRootChanges(
  projectDir: string,
  workDir: string,
  labFile: string,
): Promise<{ readonly labFile: string; readonly projectDir: string }> {
  const lab = await readFile(labFile, 'utf8');
  if (!lab.includes('lease: 24h')) throw new Error(`${labFile}: no "lease: 24h" to change`);
  const changedLab = path.join(workDir, 'lab-lease-changed.yaml');
  await mkdir(workDir, { recursive: true });
  await writeFile(changedLab, lab.replace('lease: 24h', 'lease: 12h'));
  const copy = path.join(workDir, 'project-sshd-changed');
  await rm(copy, { recursive: true, force: true });
  for (const dir of ['recipes', 'overlays'])
    await cp(path.join(projectDir, dir), path.join(copy, dir), { recursive: true });
  const dropIn = path.join(copy, 'overlays/common/rootfs/etc/ssh/sshd_config.d/10-key-only.conf');
  await writeFile(dropIn, `${await readFile(dropIn, 'utf8')}MaxAuthTries 3\n`);
  return { labFile: changedLab, projectDir: copy };
}

export function benchHosts(): { readonly router: string; readonly nodes: readonly string[] } {
  return { router: 'pi0', nodes: Array.from({ length: NODE_COUNT }, (_, index) => `pi${index + 1}`) };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function sum(files: readonly Candidate[]): number {
  return files.reduce((total, file) => total + file.size, 0);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
