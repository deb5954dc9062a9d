import { appendFile, mkdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { command } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { type CliOptions, type CliResult, cliOutput, runScriptCli, SAMPLE_LAB_FILE } from './bake-cli.ts';
import { bakeSampleLab } from './baked-images.ts';
import { type FakePi, type FakePiOptions, type Identity, startFakePi } from './fake-pi.ts';
import type { LoginUser } from './login-user.ts';
import { attachLoop, type LoopDevice } from './loop-device.ts';
import { makeNetLab, type Netns, type NetLab } from './netns.ts';
import { type ClientKey, makeClientKey } from './sshd.ts';
import { makeTempDir, type TempDir } from './temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from './test-lab-file.ts';

export const needsRoot = true;

/*
 * A lab for deploy tests: the sample lab baked and published to a share directory, and one fake Pi
 * (see fake-pi.ts) per host, each with its own namespace, loop-device USB disk and two identities.
 * With a router, the nodes sit on a lab subnet that only the router's namespace reaches: deploy gets
 * to them through the router as jump host, as in the real lab. Everything lives under /var/tmp.
 */

export interface PublishedShare {
  readonly dir: string;
  /** The published images' directory (a share that imagers see at /home/partimag). */
  readonly shareDir: string;
  /** Bytes of the disk the images were saved from. */
  readonly diskBytes: number;
  remove(): Promise<void>;
}

/** Bakes the sample lab and publishes every host to a new share directory. */
export async function publishSampleLab(): Promise<PublishedShare> {
  const temp = await makeTempDir();
  try {
    const lab = await bakeSampleLab(temp.path);
    const shareDir = path.join(temp.path, 'share');
    await mkdir(shareDir);
    const published = await runScriptCli('publish', [
      '--lab',
      SAMPLE_LAB_FILE,
      '--from',
      lab.imagesDir,
      '--to',
      shareDir,
    ]);
    if (published.exitCode !== 0) throw new Error(`publish failed: ${cliOutput(published)}`);
    return {
      dir: temp.path,
      shareDir,
      diskBytes: await savedDiskBytes(shareDir, 'pi1'),
      remove: () => temp.remove(),
    };
  } catch (error) {
    await temp.remove();
    throw error;
  }
}

async function savedDiskBytes(shareDir: string, host: string): Promise<number> {
  const disk = (await readFile(path.join(shareDir, host, 'disk'), 'utf8')).trim();
  const parted = await readFile(path.join(shareDir, host, `${disk}-pt.parted`), 'utf8');
  const sectors = /^Disk \/dev\/\S+: (\d+)s$/m.exec(parted)?.[1];
  if (!sectors) throw new Error(`no disk size in ${host}/${disk}-pt.parted`);
  return Number(sectors) * 512;
}

export interface PiSpec {
  readonly name: string;
  readonly recipe?: 'node' | 'router';
  readonly startAs?: Identity;
  readonly bootloader?: FakePiOptions['bootloader'];
  readonly imagerAnswersAs?: string;
  readonly neverBoots?: Identity;
  readonly ignoresPoweroff?: boolean;
  readonly leasesFile?: string;
  /** Default: the size the image needs. */
  readonly diskBytes?: number;
  /** The share this Pi's imager sees, when not the published one. */
  readonly shareDir?: string;
  /** The imager's own boot partition is on its target disk (a disk it must refuse). */
  readonly imagerRunsFromTarget?: boolean;
}

export interface DeployLabOptions {
  readonly share: PublishedShare;
  readonly pis: readonly PiSpec[];
  readonly timeouts?: Readonly<Record<string, number>>;
  readonly parallel?: number;
  /** Log in as this user (on every Pi, the jump host included) instead of root. */
  readonly loginUser?: LoginUser;
}

export interface DeployLab {
  readonly labFile: string;
  readonly knownHostsFile: string;
  readonly logDir: string;
  pi(name: string): FakePi;
  disk(name: string): LoopDevice;
  /** `npm run deploy` with this lab, the test's key and known_hosts only. */
  deploy(args: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** Any other command (status, power…) the same way. */
  cli(script: string, args: readonly string[], options?: CliOptions): Promise<CliResult>;
  teardown(): Promise<void>;
}

/** The disk the machine (the imagers' "SD card") runs from, as lsblk names it. */
export async function rootDiskName(): Promise<string | undefined> {
  const { stdout } = await runCommand(command('findmnt', ['-n', '-o', 'SOURCE', '-T', '/']));
  const source = stdout.trim();
  if (!source.startsWith('/dev/')) return undefined;
  const parent = await runCommand(command('lsblk', ['-n', '-d', '-o', 'PKNAME', source]));
  const name = parent.stdout.trim() || source.slice('/dev/'.length);
  return /^[a-z][a-z0-9]*$/.test(name) ? name : undefined;
}

export async function startDeployLab(options: DeployLabOptions): Promise<DeployLab> {
  const sdDisk = await rootDiskName();
  if (!sdDisk) throw new Error('this machine does not run from a block device: the imagers need one');
  const temp: TempDir = await makeTempDir();
  const stateRoot = path.join('/var/tmp', `pi-lab-test-${process.pid}-${path.basename(temp.path)}`);
  const net: NetLab = makeNetLab();
  const pis = new Map<string, FakePi>();
  const disks = new Map<string, LoopDevice>();
  const stopSyncs: (() => Promise<void>)[] = [];
  const teardown = async (): Promise<void> => {
    for (const pi of pis.values()) await pi.stop().catch(() => undefined);
    for (const stop of stopSyncs) await stop().catch(() => undefined);
    for (const disk of disks.values()) await disk.detach().catch(() => undefined);
    await net.teardown();
    await runCommand(command('rm', ['-rf', stateRoot])).catch(() => undefined);
    await temp.remove();
  };
  try {
    const key: ClientKey = await makeClientKey(temp.path);
    const router = options.pis.find((spec) => spec.recipe === 'router');
    const namespaces = new Map<string, { ns: Netns; address: string }>();
    let routerNs: Netns | undefined;
    if (router) {
      routerNs = await net.namespace();
      const link = await net.link('host', routerNs);
      namespaces.set(router.name, { ns: routerNs, address: link.rightAddress });
    }
    for (const spec of options.pis) {
      if (spec === router) continue;
      const ns = await net.namespace();
      const link = routerNs ? await net.link(routerNs, ns, { pool: 'lab' }) : await net.link('host', ns);
      namespaces.set(spec.name, { ns, address: link.rightAddress });
    }

    const hosts: Record<string, unknown>[] = [];
    const knownHosts: string[] = [];
    for (const spec of options.pis) {
      const place = namespaces.get(spec.name);
      if (!place) throw new Error(`no namespace for ${spec.name}`);
      const diskFile = path.join(temp.path, `${spec.name}-usb.img`);
      await writeFile(diskFile, '');
      await truncate(diskFile, spec.diskBytes ?? options.share.diskBytes);
      const disk = await attachLoop(diskFile);
      disks.set(spec.name, disk);
      // ocs-sr waits for partition nodes that no udev makes here.
      stopSyncs.push(disk.startBackgroundSync());
      const imagerName = `imager${/\d+$/.exec(spec.name)?.[0] ?? '0'}`;
      const imagerBootDevice = spec.imagerRunsFromTarget ? await bootPartitionOn(disk) : undefined;
      const pi = await startFakePi({
        name: spec.name,
        imagerName,
        netns: place.ns,
        address: place.address,
        authorizedKeys: key.publicKey,
        shareDir: spec.shareDir ?? options.share.shareDir,
        disk,
        stateDir: path.join(stateRoot, spec.name),
        startAs: spec.startAs ?? 'node',
        ...(spec.bootloader ? { bootloader: spec.bootloader } : {}),
        ...(spec.imagerAnswersAs ? { imagerAnswersAs: spec.imagerAnswersAs } : {}),
        ...(spec.neverBoots ? { neverBoots: spec.neverBoots } : {}),
        ...(spec.ignoresPoweroff ? { ignoresPoweroff: true } : {}),
        ...(spec.leasesFile ? { leasesFile: spec.leasesFile } : {}),
        ...(imagerBootDevice ? { imagerBootDevice } : {}),
        ...(options.loginUser ? { loginUser: options.loginUser } : {}),
      });
      pis.set(spec.name, pi);
      knownHosts.push(...(await pi.knownHostsLines()));
      hosts.push({
        name: spec.name,
        recipe: spec.recipe ?? 'node',
        ssh: { address: pi.address, port: pi.nodePort },
        imager: {
          name: imagerName,
          address: pi.address,
          port: pi.imagerPort,
          disk: disk.name,
          sd_disk: sdDisk,
        },
      });
    }
    const knownHostsFile = path.join(temp.path, 'known_hosts');
    await writeFile(knownHostsFile, `${knownHosts.join('\n')}\n`);
    const routerPi = router ? pis.get(router.name) : undefined;
    const labFile = await writeTestLab(path.join(temp.path, 'lab.yaml'), {
      ...(routerPi
        ? {
            network: {
              subnet: '10.214.0.0/15',
              router: '10.215.0.1',
              dhcp: { start: '10.215.0.10', end: '10.215.0.99', lease: '1h' },
              lan: 'eth0',
              uplink: 'wlan0',
            },
          }
        : {}),
      share: { target: options.share.shareDir, image_root: '/home/partimag', keep: 3 },
      ssh: {
        user: options.loginUser?.name ?? 'root',
        identity: key.privateKeyFile,
        known_hosts: knownHostsFile,
        connect_timeout: 10,
        ...(routerPi
          ? { jump: `${options.loginUser?.name ?? 'root'}@${routerPi.address}:${routerPi.nodePort}` }
          : {}),
      },
      deploy: {
        parallel: options.parallel ?? 3,
        timeouts: { locate: 10, boot: 60, preflight: 120, restore: 900, verify: 120, ...options.timeouts },
      },
      hosts,
    });
    const logDir = path.join(temp.path, 'logs');
    return {
      labFile,
      knownHostsFile,
      logDir,
      pi: (name) => {
        const pi = pis.get(name);
        if (!pi) throw new Error(`no fake Pi ${name}`);
        return pi;
      },
      disk: (name) => {
        const disk = disks.get(name);
        if (!disk) throw new Error(`no disk for ${name}`);
        return disk;
      },
      cli: (script, args, cliOptions = {}) =>
        runScriptCli(script, ['--lab', labFile, ...args], {
          timeoutMs: 5 * 60_000,
          ...cliOptions,
          env: { ...isolatedSshEnv(path.join(temp.path, 'home')), ...cliOptions.env },
        }),
      deploy: (args, cliOptions = {}) =>
        runScriptCli('deploy', ['--lab', labFile, ...args], {
          timeoutMs: 20 * 60_000,
          ...cliOptions,
          env: { ...isolatedSshEnv(path.join(temp.path, 'home')), PI_LAB_LOG_DIR: logDir, ...cliOptions.env },
        }),
      teardown,
    };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/** Makes one ext4 partition on `disk` and returns its device: an imager's boot partition there. */
async function bootPartitionOn(disk: LoopDevice): Promise<string> {
  await runCommand(command('sfdisk', ['-q', disk.device]), { input: 'start=2048, size=65536, type=83\n' });
  await disk.syncPartitions();
  const partition = disk.partitionDevice(1);
  await runCommand(command('mkfs.ext4', ['-q', '-F', partition]));
  return partition;
}

/** Appends lines to a file (e.g. a host key line to known_hosts). */
export async function appendLines(file: string, lines: readonly string[]): Promise<void> {
  await appendFile(file, lines.map((line) => `${line}\n`).join(''));
}
