import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describeError, UserError } from '../errors.ts';
import { readManifest } from '../bake/manifest.ts';
import type { Lab } from '../lab/lab-types.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { probePasswordLogin } from '../ssh/probe-password-login.ts';
import { sshSettings } from '../ssh/lab-ssh.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import type { SshEndpoint, SshSettings } from '../ssh/ssh-endpoint.ts';
import { readFatFile } from '../tools/mtools.ts';
import { verifyHostTools, type HostTool } from '../tools/host-tools.ts';
import { BootCheckFailure, bootUntilUp, type BootRecord, type RunningVm } from './boot-vm.ts';
import { restoreDiskFile } from './disk-from-image.ts';
import { checkBootedHost, type CheckResult, type HostExpectation } from './guest-checks.ts';

export const BOOT_TEST_TOOLS: readonly HostTool[] = [
  { program: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86' },
  { program: 'sfdisk', debianPackage: 'fdisk' },
  { program: 'mcopy', debianPackage: 'mtools' },
  { program: 'partclone.ext4', debianPackage: 'partclone' },
  { program: 'partclone.vfat', debianPackage: 'partclone' },
  { program: 'pigz', debianPackage: 'pigz' },
];

/** The sample lab's key pair, written by `npm run sample` next to the images it bakes. */
export const SAMPLE_KEY_DIR = 'sample-lab-key';

export interface BootTestOptions {
  readonly lab: Lab;
  readonly hosts: readonly string[];
  /** The baked images (images/<host>); only read. */
  readonly fromDir: string;
  readonly logDir: string;
  readonly bootTimeoutSeconds?: number;
  readonly onProgress?: (line: string) => void;
  /** Called with each host up and checked, before its VM is stopped; resolve to stop it. */
  readonly holdOpen?: (host: string, sshCommand: string) => Promise<void>;
}

export interface HostBootResult {
  readonly host: string;
  readonly ok: boolean;
  readonly version: string | undefined;
  readonly checks: readonly CheckResult[];
  readonly boots: readonly BootRecord[];
  readonly seconds: {
    readonly disk: number;
    readonly boot: number;
    readonly checks: number;
    readonly total: number;
  };
  readonly logs: readonly string[];
  readonly error?: string;
}

export interface BootTestResult {
  readonly ok: boolean;
  readonly accel: 'kvm' | 'tcg';
  readonly hosts: readonly HostBootResult[];
}

/** Under software emulation a first boot plus its reboot takes minutes on two cores. */
const TCG_BOOT_TIMEOUT_SECONDS = 20 * 60;
const KVM_BOOT_TIMEOUT_SECONDS = 3 * 60;
const PROBE_INTERVAL_MS = 3000;
/** A password a careless image might still accept. */
const PROBE_PASSWORD = 'raspberry';

/**
 * Boots each host's baked image under QEMU, one VM per host on QEMU's user network (no route out),
 * and checks it over SSH. Hosts run one after another: each emulated VM takes a core.
 */
export async function runBootTest(options: BootTestOptions): Promise<BootTestResult> {
  await verifyHostTools(BOOT_TEST_TOOLS);
  const hosts = selectHosts(options.lab, options.hosts, options.fromDir);
  const accel = await chooseAccel();
  await mkdir(options.logDir, { recursive: true });
  const results: HostBootResult[] = [];
  for (const host of hosts) results.push(await bootTestHost(host, accel, options));
  return { ok: results.every((r) => r.ok), accel, hosts: results };
}

function selectHosts(lab: Lab, names: readonly string[], fromDir: string): string[] {
  const baked = lab.hosts.filter((host) => host.recipe !== undefined).map((host) => host.name);
  const unknown = names.filter((name) => !baked.includes(name));
  if (unknown.length > 0) {
    throw new UserError(`Not a host with a recipe in ${lab.file}: ${unknown.join(', ')}.`, [
      `Hosts that can be boot-tested: ${baked.join(', ') || 'none'}; bake them first (npm run bake) into ${fromDir}.`,
    ]);
  }
  return names.length > 0 ? [...names] : baked;
}

async function chooseAccel(): Promise<'kvm' | 'tcg'> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

async function bootTestHost(
  host: string,
  accel: 'kvm' | 'tcg',
  options: BootTestOptions,
): Promise<HostBootResult> {
  const started = Date.now();
  const since = (from: number): number => (Date.now() - from) / 1000;
  const say = (line: string): void => options.onProgress?.(`${host}: ${line}`);
  const imageDir = path.join(options.fromDir, host);
  const work = await mkdtemp(path.join(options.fromDir, `.boot-test-${host}-`));
  const seconds = { disk: 0, boot: 0, checks: 0, total: 0 };
  let version: string | undefined;
  let vm: RunningVm<SshSession> | undefined;
  let checks: CheckResult[] = [];
  let boots: readonly BootRecord[] = [];
  const logs: string[] = [];
  let lastRefusal: string | undefined;
  try {
    const manifest = await readManifest(imageDir);
    if (!manifest) {
      throw new UserError(`${imageDir} holds no baked image (no pi-lab-manifest.json).`, [
        `Bake it first: npm run bake -- ${host}`,
      ]);
    }
    version = manifest.version;
    say('making its disk from the image (partclone restore into a sparse file)…');
    const diskStarted = Date.now();
    const disk = await restoreDiskFile(imageDir, path.join(work, `${host}.img`));
    seconds.disk = since(diskStarted);
    const firstBoot = await firstBootFormat(disk.path, disk.bootOffset);
    const port = await freeLoopbackPort();
    const endpoint: SshEndpoint = { host: '127.0.0.1', port, user: options.lab.ssh.user };
    const settings = await bootTestSshSettings(options.lab, options.fromDir, work);
    say(`booting (${accel === 'kvm' ? 'KVM' : 'software emulation'}; serial logs in ${options.logDir})…`);
    const bootStarted = Date.now();
    vm = await bootUntilUp(
      {
        host,
        disk: disk.path,
        bootOffset: disk.bootOffset,
        nics: [{ kind: 'user', sshPort: port }],
        accel,
        workDir: work,
        logDir: options.logDir,
        bootTimeoutSeconds:
          options.bootTimeoutSeconds ??
          (accel === 'kvm' ? KVM_BOOT_TIMEOUT_SECONDS : TCG_BOOT_TIMEOUT_SECONDS),
      },
      (signal) =>
        waitForLogin(endpoint, settings, signal, (reason) => {
          lastRefusal = reason;
        }),
    );
    boots = vm.boots;
    logs.push(...boots.map((boot) => boot.serialLog));
    seconds.boot = since(bootStarted);
    say(`up after ${boots.length} boot(s) in ${seconds.boot.toFixed(0)} s; checking…`);
    const checksStarted = Date.now();
    const expectation: HostExpectation = { host, version, firstBoot };
    checks = [...(await checkBootedHost(vm.ready, expectation)), await checkPasswordRefused(endpoint)];
    seconds.checks = since(checksStarted);
    if (options.holdOpen) await options.holdOpen(host, sshCommandLine(endpoint, settings));
  } catch (error) {
    if (error instanceof BootCheckFailure) {
      if (error.log) logs.push(error.log);
      const ssh = lastRefusal ? `; the last SSH attempt said: ${lastRefusal}` : '';
      checks.push({ name: error.check, ok: false, detail: `${error.detail}${ssh}` });
    } else if (error instanceof UserError) {
      throw error;
    } else {
      checks.push({ name: 'boot test runs', ok: false, detail: describeError(error) });
    }
  } finally {
    await vm?.ready.close();
    await vm?.stop();
    await rm(work, { recursive: true, force: true });
  }
  seconds.total = since(started);
  const ok = checks.length > 0 && checks.every((check) => check.ok);
  const failed = checks.filter((check) => !check.ok);
  return {
    host,
    ok,
    version,
    checks,
    boots,
    seconds,
    logs,
    ...(ok
      ? {}
      : {
          error: failed
            .map((check) => `${host}: ${check.name}: ${check.detail} (serial log: ${logs.at(-1) ?? 'none'})`)
            .join('\n'),
        }),
  };
}

/** What the first boot is expected to run, from the command line it starts with. */
async function firstBootFormat(disk: string, bootOffset: number): Promise<HostExpectation['firstBoot']> {
  const cmdline = (await readFatFile(`${disk}@@${bootOffset}`, 'cmdline.txt')).toString('utf8');
  return /(?:^|\s)ds=nocloud/.test(cmdline) ? 'cloud-init' : 'firstrun';
}

/** The user's keys as deploy finds them, plus the sample lab's key when it is there. */
async function bootTestSshSettings(lab: Lab, fromDir: string, work: string): Promise<SshSettings> {
  const knownHosts = path.join(work, 'known_hosts');
  await writeFile(knownHosts, '');
  const base = sshSettings(lab.ssh);
  const sampleKey = path.join(fromDir, SAMPLE_KEY_DIR, 'id_ed25519');
  const hasSampleKey = await access(sampleKey).then(
    () => true,
    () => false,
  );
  const identityFiles = base.identityFiles ?? ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];
  return {
    ...base,
    identityFiles: hasSampleKey ? [...identityFiles, sampleKey] : identityFiles,
    knownHostsFile: knownHosts,
    // The VM made its host keys at its first boot, a minute ago, on a machine only we can reach.
    acceptHostKey: () => true,
  };
}

async function waitForLogin(
  endpoint: SshEndpoint,
  settings: SshSettings,
  signal: AbortSignal,
  onRefused: (reason: string) => void,
): Promise<SshSession> {
  const stopped = (): boolean => signal.aborted;
  // A refused login is retried too: sshd may be up before the first boot has installed the key.
  while (!stopped()) {
    try {
      const session = await connectSsh(endpoint, { ...settings, connectTimeoutSeconds: 20 });
      if (!stopped()) return session;
      await session.close();
    } catch (error) {
      onRefused(describeError(error));
    }
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  }
  throw new Error('stopped waiting for SSH');
}

async function checkPasswordRefused(endpoint: SshEndpoint): Promise<CheckResult> {
  const name = 'a password login is refused';
  const probe = await probePasswordLogin(endpoint.host, endpoint.port ?? 22, endpoint.user, PROBE_PASSWORD);
  const offered = probe.methodsOffered.join(',') || 'none';
  if (probe.accepted)
    return { name, ok: false, detail: `the password was accepted (server offers ${offered})` };
  const passwordish = probe.methodsOffered.filter((m) => m === 'password' || m === 'keyboard-interactive');
  return passwordish.length > 0
    ? { name, ok: false, detail: `refused, but the server offers ${offered}` }
    : { name, ok: true, detail: `the server offers only ${offered}` };
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function sshCommandLine(endpoint: SshEndpoint, settings: SshSettings): string {
  const keys = (settings.identityFiles ?? []).map((file) => `-i ${file}`).join(' ');
  return `ssh ${keys} -p ${endpoint.port ?? 22} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ${endpoint.user}@${endpoint.host}`;
}
