import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { SAMPLE_KEY_DIR } from '../../src/boot-test/run-boot-test.ts';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { importDisk } from '../../src/import/import-disk.ts';
import { ensureSampleOs } from '../../src/sample-os/sample-os-cache.ts';
import type { SampleOsFlavour } from '../../src/sample-os/sample-os-spec.ts';
import { cliOutput, runBakeCli, runScriptCli, type CliResult } from './bake-cli.ts';
import { writeTestLab } from './test-lab-file.ts';

/**
 * A lab in a temp dir made from the bootable sample (built once per machine, cached): the clean
 * image imported, the sample key beside the images, a lab file on a private test subnet.
 */
export interface BootableLab {
  readonly dir: string;
  readonly labFile: string;
  readonly imagesDir: string;
  readonly cleanDir: string;
  readonly logDir: string;
}

export const TEST_NETWORK = {
  subnet: '10.87.0.0/24',
  router: '10.87.0.1',
  dhcp: { start: '10.87.0.11', end: '10.87.0.99', lease: '1h' },
  lan: 'eth0',
  uplink: 'eth1',
};

export async function makeBootableLab(
  dir: string,
  flavour: SampleOsFlavour,
  hosts: readonly Readonly<Record<string, unknown>>[],
  options: { readonly changeCleanDisk?: (disk: string) => Promise<void> } = {},
): Promise<BootableLab> {
  const sample = await ensureSampleOs(flavour);
  let cleanDisk = sample.disk;
  if (options.changeCleanDisk) {
    cleanDisk = path.join(dir, 'clean-disk.img');
    await runCommand(command('cp', ['--sparse=always', sample.disk, cleanDisk]));
    await options.changeCleanDisk(cleanDisk);
  }
  const imagesDir = path.join(dir, 'images');
  const keyDir = path.join(imagesDir, SAMPLE_KEY_DIR);
  await mkdir(keyDir, { recursive: true });
  await copyFile(sample.privateKey, path.join(keyDir, 'id_ed25519'));
  const cleanDir = await importDisk({ diskFile: cleanDisk, name: 'pi-img', outDir: imagesDir });
  const labFile = await writeTestLab(path.join(dir, 'lab.yaml'), {
    network: TEST_NETWORK,
    image: { clean: cleanDir, placeholder: 'changeme' },
    share: undefined,
    ssh: { user: 'pi' },
    hosts,
  });
  return { dir, labFile, imagesDir, cleanDir, logDir: path.join(dir, 'logs') };
}

/** Bakes the hosts into the lab's images dir; throws with the CLI's output unless it exits 0. */
export async function bakeLab(
  lab: BootableLab,
  hosts: readonly string[],
  options: { readonly projectDir?: string; readonly labFile?: string } = {},
): Promise<void> {
  const { projectDir, labFile = lab.labFile } = options;
  const result = await runBakeCli(
    [...hosts, '--lab', labFile, '--clean', lab.cleanDir, '--out', lab.imagesDir, '--json'],
    { timeoutMs: 10 * 60_000, ...(projectDir ? { projectDir } : {}) },
  );
  if (result.exitCode !== 0) throw new Error(`bake failed:\n${cliOutput(result)}`);
}

/** `npm run boot-test -- ARGS --lab … --from … --logs … --json`, with ~/.ssh and the agent kept out. */
export function runBootTestCli(
  lab: BootableLab,
  args: readonly string[],
  labFile = lab.labFile,
): Promise<CliResult> {
  return runScriptCli(
    'boot-test',
    [...args, '--lab', labFile, '--from', lab.imagesDir, '--logs', lab.logDir, '--json'],
    { timeoutMs: 40 * 60_000, env: { HOME: lab.dir, SSH_AUTH_SOCK: '' } },
  );
}
