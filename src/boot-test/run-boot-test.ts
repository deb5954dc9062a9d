import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import { UserError } from '../errors.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import type { SshEndpoint, SshSettings } from '../ssh/ssh-endpoint.ts';
import { verifyHostTools, type HostTool } from '../tools/host-tools.ts';
import type { Manifest } from '../image/manifest.ts';
import { chooseAccel } from './choose-accel.ts';
import { checkBootedHost } from './guest-checks.ts';
import { HostTrial, type HostBootResult } from './host-trial.ts';
import { checkNodeOnLab, checkRouter } from './lab-checks.ts';
import { labSwitch } from './virtual-switch.ts';
import { bootTestSshSettings, checkPasswordRefused, waitForLogin, waitForNodeOnLab } from './ssh-probes.ts';

export type { HostBootResult } from './host-trial.ts';
export { SAMPLE_KEY_DIR } from './ssh-probes.ts';

export const BOOT_TEST_TOOLS: readonly HostTool[] = [
  { program: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86' },
  { program: 'sfdisk', debianPackage: 'fdisk' },
  { program: 'mcopy', debianPackage: 'mtools' },
  { program: 'partclone.ext4', debianPackage: 'partclone' },
  { program: 'partclone.vfat', debianPackage: 'partclone' },
  { program: 'pigz', debianPackage: 'pigz' },
];

const ROUTER_RECIPE = 'router';

export interface BootTestOptions {
  readonly lab: Lab;
  readonly hosts: readonly string[];
  /** The baked images (images/<host>); only read. */
  readonly fromDir: string;
  readonly logDir: string;
  readonly bootTimeoutSeconds?: number;
  readonly onProgress?: (line: string) => void;
  /** Raw disks to boot instead of making them from the images (a disk a real restore wrote). */
  readonly disks?: Readonly<Record<string, string>>;
  /** Called once every host is up and checked, before the VMs are stopped; resolve to stop them. */
  readonly holdOpen?: (sshCommands: readonly string[]) => Promise<void>;
}

export interface BootTestResult {
  readonly ok: boolean;
  readonly mode: 'alone' | 'lab';
  readonly accel: 'kvm' | 'tcg';
  readonly hosts: readonly HostBootResult[];
}

/** Under software emulation a first boot plus its reboot takes minutes on two cores. */
const TCG_BOOT_TIMEOUT_SECONDS = 20 * 60;
const KVM_BOOT_TIMEOUT_SECONDS = 3 * 60;

interface Context {
  readonly options: BootTestOptions;
  readonly accel: 'kvm' | 'tcg';
  readonly settings: SshSettings;
  readonly bootTimeoutSeconds: number;
  readonly say: (line: string) => void;
}

/**
 * Boots baked images under QEMU and checks them over SSH. With the router among the hosts, the
 * lab mode: the router and the nodes on one virtual switch (QEMU sockets on loopback, joined by a
 * hub in the router's QEMU), the router first, then the nodes, reached through it. Otherwise each
 * node alone on QEMU's user network, with no route out.
 */
export async function runBootTest(options: BootTestOptions): Promise<BootTestResult> {
  await verifyHostTools(BOOT_TEST_TOOLS);
  const hosts = selectHosts(options.lab, options.hosts, options.fromDir);
  const strayDisks = Object.keys(options.disks ?? {}).filter((name) => !hosts.some((h) => h.name === name));
  if (strayDisks.length > 0)
    throw new UserError(`--disk names ${strayDisks.join(', ')}, which is not among the hosts booted.`, [
      `Hosts booted: ${hosts.map((h) => h.name).join(', ')}.`,
    ]);
  const { accel, kvmUnusable } = await chooseAccel();
  if (kvmUnusable)
    options.onProgress?.(
      `/dev/kvm is there but KVM does not run a guest here (${kvmUnusable}): software emulation.`,
    );
  await mkdir(options.logDir, { recursive: true });
  const trials: HostTrial[] = [];
  try {
    for (const host of hosts) trials.push(await HostTrial.create(host.name, options.fromDir));
    const context: Context = {
      options,
      accel,
      settings: await bootTestSshSettings(options.lab, options.fromDir, trials[0]?.work ?? options.fromDir),
      bootTimeoutSeconds:
        options.bootTimeoutSeconds ?? (accel === 'kvm' ? KVM_BOOT_TIMEOUT_SECONDS : TCG_BOOT_TIMEOUT_SECONDS),
      say: (line) => options.onProgress?.(line),
    };
    const router = hosts.find((host) => host.recipe === ROUTER_RECIPE);
    const mode = router ? 'lab' : 'alone';
    if (router) await bootLab(context, trials, hosts);
    else await bootEachAlone(context, trials);
    return {
      ok: trials.every((trial) => trial.result().ok),
      mode,
      accel,
      hosts: trials.map((t) => t.result()),
    };
  } finally {
    for (const trial of trials.reverse()) await trial.dispose();
  }
}

function selectHosts(lab: Lab, names: readonly string[], fromDir: string): LabHost[] {
  const baked = lab.hosts.filter((host) => host.recipe !== undefined);
  const unknown = names.filter((name) => !baked.some((host) => host.name === name));
  if (unknown.length > 0) {
    throw new UserError(`Not a host with a recipe in ${lab.file}: ${unknown.join(', ')}.`, [
      `Hosts that can be boot-tested: ${baked.map((host) => host.name).join(', ') || 'none'}; bake them first (npm run bake) into ${fromDir}.`,
    ]);
  }
  return names.length > 0 ? baked.filter((host) => names.includes(host.name)) : baked;
}

/** One after another (each emulated VM takes a core); with holdOpen, all are kept running to the end. */
async function bootEachAlone(context: Context, trials: readonly HostTrial[]): Promise<void> {
  const commands: string[] = [];
  for (const trial of trials) {
    const command = await bootAlone(context, trial);
    if (command) commands.push(command);
    if (!context.options.holdOpen) await trial.stop();
  }
  if (context.options.holdOpen && commands.length > 0) await context.options.holdOpen(commands);
}

/** A node alone: its only NIC on QEMU's user network, SSH forwarded from a loopback port. */
async function bootAlone(context: Context, trial: HostTrial): Promise<string | undefined> {
  const { options, settings } = context;
  const user = options.lab.ssh.user;
  let lastRefusal: string | undefined;
  try {
    context.say(`${trial.host}: making its disk from the image (partclone restore into a sparse file)…`);
    await trial.makeDisk(options.disks?.[trial.host]);
    const expectation = await trial.expectation();
    const port = await freeLoopbackPort();
    const endpoint: SshEndpoint = { host: '127.0.0.1', port, user };
    context.say(
      `${trial.host}: booting (${describeAccel(context.accel)}; serial logs in ${options.logDir})…`,
    );
    const booted = await trial.boot(vmSettings(context, [{ kind: 'user', sshPort: port }]), (signal) =>
      waitForLogin(endpoint, settings, signal, (reason) => {
        lastRefusal = reason;
      }),
    );
    context.say(`${trial.host}: up after ${trial.boots.length} boot(s); checking…`);
    await trial.check(async () => [
      ...(await checkBootedHost(booted.session, expectation)),
      await checkPasswordRefused(() => Promise.resolve(net.connect({ host: '127.0.0.1', port })), user),
    ]);
    return sshCommandLine(endpoint, settings);
  } catch (error) {
    trial.recordFailure(error, lastRefusal);
    await trial.stop();
    return undefined;
  }
}

/** The router first (its first-boot installer must have run before anyone asks it for a lease), then the nodes at once. */
async function bootLab(
  context: Context,
  trials: readonly HostTrial[],
  hosts: readonly LabHost[],
): Promise<void> {
  const { options, settings } = context;
  const user = options.lab.ssh.user;
  const routerIndex = hosts.findIndex((host) => host.recipe === ROUTER_RECIPE);
  const routerTrial = trials[routerIndex];
  if (!routerTrial) throw new Error('no router trial');
  const nodes = trials.flatMap((trial, index) => {
    const host = hosts[index];
    return index === routerIndex || !host ? [] : [{ trial, host }];
  });
  for (const trial of trials) {
    context.say(`${trial.host}: making its disk from the image (partclone restore into a sparse file)…`);
    await trial.makeDisk(options.disks?.[trial.host]);
  }
  const routerPort = await freeLoopbackPort();
  const routerEndpoint: SshEndpoint = { host: '127.0.0.1', port: routerPort, user };
  const wiring = labSwitch(
    routerPort,
    await Promise.all(nodes.map(() => freeLoopbackPort())),
    nodes.map(({ host }) => host),
  );

  let routerUp = false;
  let lastRefusal: string | undefined;
  try {
    context.say(
      `${routerTrial.host}: booting the router (${describeAccel(context.accel)}; serial logs in ${options.logDir})…`,
    );
    const router = await routerTrial.boot(vmSettings(context, wiring.router), (signal) =>
      waitForLogin(routerEndpoint, settings, signal, (reason) => {
        lastRefusal = reason;
      }),
    );
    context.say(`${routerTrial.host}: up after ${routerTrial.boots.length} boot(s); checking…`);
    const expectation = await routerTrial.expectation();
    await routerTrial.check(async () => [
      ...(await checkBootedHost(router.session, expectation)),
      await checkPasswordRefused(
        () => Promise.resolve(net.connect({ host: '127.0.0.1', port: routerPort })),
        user,
      ),
      ...(await checkRouter(router.session, {
        lan: options.lab.network.lan,
        address: options.lab.network.router,
        prefix: options.lab.network.subnet.prefix,
        uplink: options.lab.network.uplink,
        written: writtenDigests(routerTrial.manifest),
      })),
    ]);
    routerUp = true;
  } catch (error) {
    routerTrial.recordFailure(error, lastRefusal);
  }
  if (!routerUp) {
    for (const { trial } of nodes)
      trial.checks.push({
        name: 'the router is up',
        ok: false,
        detail: `${routerTrial.host} did not come up`,
      });
    return;
  }
  const router = routerTrial.vm?.ready;
  if (!router) throw new Error('router up without a session');
  await Promise.all(
    nodes.map(async ({ trial, host }, index) => {
      let nodeRefusal: string | undefined;
      const nics = wiring.nodes[index] ?? [];
      const mac = nics[0]?.mac ?? '';
      try {
        const expectation = await trial.expectation();
        context.say(`${trial.host}: booting on the lab switch as ${mac}…`);
        const booted = await trial.boot(vmSettings(context, nics), (signal) =>
          waitForNodeOnLab(router.session, routerEndpoint, mac, user, settings, signal, (reason) => {
            nodeRefusal = reason;
          }),
        );
        context.say(`${trial.host}: up at ${booted.address} after ${trial.boots.length} boot(s); checking…`);
        await trial.check(async () => [
          ...(await checkBootedHost(booted.session, expectation)),
          await checkPasswordRefused(() => router.session.forwardTo(booted.address, 22), user),
          ...(await checkNodeOnLab(booted.session, {
            host: trial.host,
            reservedIp: host.mac ? host.ip : undefined,
            router: options.lab.network.router,
            leasedIp: booted.address,
          })),
        ]);
      } catch (error) {
        trial.recordFailure(error, nodeRefusal);
      }
    }),
  );
  if (options.holdOpen) {
    const commands = [
      sshCommandLine(routerEndpoint, settings),
      ...nodes.flatMap(({ trial }) => {
        const address = trial.vm?.ready.address;
        return address ? [sshCommandLine({ host: address, user, jump: routerEndpoint }, settings)] : [];
      }),
    ];
    await options.holdOpen(commands);
  }
}

function vmSettings(context: Context, nics: HostTrialNics) {
  return {
    nics,
    accel: context.accel,
    logDir: context.options.logDir,
    bootTimeoutSeconds: context.bootTimeoutSeconds,
  };
}

type HostTrialNics = Parameters<HostTrial['boot']>[0]['nics'];

/** sha256 of each root file the bake wrote, by absolute path. */
function writtenDigests(manifest: Manifest | undefined): Map<string, string> {
  const digests = new Map<string, string>();
  for (const files of Object.values(manifest?.written ?? {}))
    for (const [file, description] of Object.entries(files)) {
      const hex = /^sha256:([0-9a-f]{64})/.exec(description)?.[1];
      if (hex) digests.set(file.startsWith('/') ? file : `/${file}`, hex);
    }
  return digests;
}

function describeAccel(accel: 'kvm' | 'tcg'): string {
  return accel === 'kvm' ? 'KVM' : 'software emulation: minutes per boot';
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
  const jump = endpoint.jump
    ? ` -J ${endpoint.jump.user}@${endpoint.jump.host}:${endpoint.jump.port ?? 22}`
    : '';
  return `ssh ${keys} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null${jump} -p ${endpoint.port ?? 22} ${endpoint.user}@${endpoint.host}`;
}
