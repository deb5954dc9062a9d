import path from 'node:path';
import { describeError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { ContractError } from '../image/contract-json.ts';
import { type Manifest, readManifest } from '../image/manifest.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import type { ShareFs } from '../share/share-fs.ts';
import { readHostOnShare, readVersionManifest } from '../share/read-share-state.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import { probeSshPort } from '../ssh/probe-ssh-port.ts';
import { rootShell } from '../ssh/root-shell.ts';
import { describeEndpoint, type SshEndpoint } from '../ssh/ssh-endpoint.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import type { SudoPassword } from '../ssh/sudo-password.ts';
import { mapBounded } from '../values/map-bounded.ts';
import {
  BOOT_MOUNT,
  compareDrift,
  DRIFT_SCRIPT,
  type Drift,
  expectedFiles,
  type FoundFile,
  parseFoundFiles,
} from './drift.ts';
import type { HostStatus, StatusReport } from './host-status.ts';
import { readHostFacts } from './read-host-facts.ts';
import { readUnknownLeases } from './unknown-leases.ts';
import { labRouter } from '../lab/router-host.ts';

export interface StatusOptions {
  readonly lab: Lab;
  readonly hosts: readonly LabHost[];
  /** Where baked images are (their versions, and the manifests drift is judged against). */
  readonly imagesDir: string;
  /** The share, opened; or why it could not be. */
  readonly share: ShareFs | { readonly unreadable: string };
  /** Per attempt at reaching a host. */
  readonly timeoutSeconds: number;
  /** For files only root may read; when sudo wants a password and none is given, they stay unverified. */
  readonly sudo: SudoPassword;
}

/** Every host at once: each is reached, read and judged within a few seconds; nothing is changed. */
export async function gatherStatus(options: StatusOptions): Promise<StatusReport> {
  const shareVersions = await currentOnShare(options);
  const hosts = await mapBounded(options.hosts, 8, (host) =>
    hostStatus(options, host, shareVersions.get(host.name)),
  );
  const router = labRouter(options.hosts);
  const routerUp = hosts.find((status) => status.host === router?.name && status.running === 'itself');
  const unknownLeases =
    router && routerUp ? await readUnknownLeases(options, router).catch(() => undefined) : undefined;
  return {
    hosts,
    share:
      'unreadable' in options.share ? `not read: ${options.share.unreadable}` : options.share.description,
    ...(unknownLeases ? { unknownLeases } : {}),
  };
}

async function currentOnShare(options: StatusOptions): Promise<Map<string, string>> {
  const versions = new Map<string, string>();
  if ('unreadable' in options.share) return versions;
  for (const host of options.hosts) {
    const current = (await readHostOnShare(options.share, host.name).catch(() => undefined))?.current;
    if (current) versions.set(host.name, current);
  }
  return versions;
}

async function hostStatus(
  options: StatusOptions,
  host: LabHost,
  shareVersion: string | undefined,
): Promise<HostStatus> {
  const started = performance.now();
  const { lab, timeoutSeconds } = options;
  const endpoints = hostEndpoints(lab, host);
  const baked = await bakedManifest(options.imagesDir, host.name);
  const version = {
    ...(shareVersion ? { share: shareVersion } : {}),
    ...(baked ? { baked: baked.version } : {}),
  };
  const seconds = () => (performance.now() - started) / 1000;
  const tries = sameMachinePort(endpoints.node, endpoints.imager)
    ? [endpoints.node]
    : [endpoints.node, endpoints.imager];
  const failures: string[] = [];
  for (const endpoint of tries) {
    let session: SshSession;
    try {
      session = await connectSsh(endpoint, {
        ...sshSettings(lab.ssh),
        connectTimeoutSeconds: timeoutSeconds,
      });
    } catch (error) {
      failures.push(describeError(error).split('\n')[0] ?? '');
      continue;
    }
    try {
      const facts = await readHostFacts(session, timeoutSeconds);
      const running =
        facts.hostname === host.name
          ? 'itself'
          : facts.hostname === endpoints.imagerName
            ? 'imager'
            : 'other';
      const runningVersion = running === 'itself' ? facts.marker?.version : undefined;
      const drift =
        running === 'itself'
          ? await checkDrift(session, options, host.name, runningVersion, baked)
          : undefined;
      return {
        host: host.name,
        reach: 'up',
        address: describeEndpoint(endpoint),
        running,
        hostname: facts.hostname,
        version: { ...version, ...(runningVersion ? { running: runningVersion } : {}) },
        ...(facts.uptimeSeconds === undefined ? {} : { uptimeSeconds: facts.uptimeSeconds }),
        ...(facts.bootloader ? { bootloader: facts.bootloader } : {}),
        ...(facts.bootMode ? { bootMode: facts.bootMode } : {}),
        ...(facts.throttled ? { throttled: facts.throttled } : {}),
        ...(drift ? { drift } : {}),
        seconds: seconds(),
      };
    } catch (error) {
      failures.push(`logged in, but reading it failed: ${describeError(error).split('\n')[0] ?? ''}`);
    } finally {
      await session.close();
    }
  }
  const answer = await probeSshPort(endpoints.node, sshSettings(lab.ssh), timeoutSeconds);
  const address = describeEndpoint(endpoints.node);
  if (answer.kind === 'closed')
    return { host: host.name, reach: 'down', address, why: answer.why, version, seconds: seconds() };
  const why =
    answer.kind === 'silent'
      ? `the SSH port accepts connections but says nothing within ${timeoutSeconds} s (sshd hung, or the machine is wedged)`
      : `${answer.banner} answers, but: ${failures[0] ?? 'no login'}`;
  return { host: host.name, reach: 'no-ssh', address, why, version, seconds: seconds() };
}

function sameMachinePort(a: SshEndpoint, b: SshEndpoint): boolean {
  return a.host === b.host && (a.port ?? 22) === (b.port ?? 22);
}

async function bakedManifest(imagesDir: string, host: string): Promise<Manifest | undefined> {
  return readManifest(path.join(imagesDir, host)).catch((error: unknown) => {
    if (error instanceof ContractError) return undefined;
    throw error;
  });
}

async function listFiles(
  shell: Pick<SshSession, 'exec'>,
  paths: readonly string[],
  timeoutSeconds: number,
): Promise<{ files: Map<string, FoundFile> } | { failed: string }> {
  const listed = await shell.exec(command('sh', ['-c', DRIFT_SCRIPT]), {
    timeoutSeconds: timeoutSeconds * 4,
    stdin: paths.map((file) => `${file}\n`).join(''),
  });
  if (listed.exitCode !== 0)
    return { failed: `reading its files failed: ${listed.stderr.trim().split('\n')[0] ?? ''}` };
  return { files: parseFoundFiles(listed.stdout) };
}

/** Against the manifest of the version it runs: baked here, or kept on the share. */
async function checkDrift(
  session: SshSession,
  options: StatusOptions,
  host: string,
  running: string | undefined,
  baked: Manifest | undefined,
): Promise<Drift | { readonly unknown: string }> {
  if (!running) return { unknown: 'it has no pi-lab image marker: not deployed by pi-lab' };
  const manifest =
    baked?.version === running
      ? baked
      : 'unreadable' in options.share
        ? undefined
        : await readVersionManifest(options.share, host, running).catch(() => undefined);
  if (!manifest) return { unknown: `no manifest of ${running} here or on the share` };
  const expected = expectedFiles(manifest);
  const found = await listFiles(
    session,
    expected.map((file) => file.path),
    options.timeoutSeconds,
  );
  if ('failed' in found) return { unknown: found.failed };
  const rootOnly = [...found.files].filter(([, file]) => file.kind === 'unreadable').map(([file]) => file);
  if (rootOnly.length > 0 && session.endpoint.user !== 'root') {
    // Files only root may read: as root when sudo lets us (with the password given), else unverified.
    const root = rootShell(session, options.sudo);
    const asRootFound = await listFiles(root, rootOnly, options.timeoutSeconds).catch(() => undefined);
    if (asRootFound && 'files' in asRootFound)
      for (const [file, seen] of asRootFound.files) found.files.set(file, seen);
  }
  const cmdline = await session.exec(command('cat', ['--', `${BOOT_MOUNT}/cmdline.txt`]), {
    timeoutSeconds: options.timeoutSeconds,
  });
  return compareDrift(expected, found.files, cmdline.exitCode === 0 ? cmdline.stdout : undefined);
}
