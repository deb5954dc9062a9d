import { randomUUID } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { shellQuote } from '../../src/exec/command.ts';
import { knownHostsName } from '../../src/ssh/known-hosts.ts';
import { listFatDir, partitionOffset, readDiskTable, readFatText } from './disk-readers.ts';
import { type LoginUser, loginUserBinds } from './login-user.ts';
import type { LoopDevice } from './loop-device.ts';
import type { Netns } from './netns.ts';
import { runTool } from './spawn-tool.ts';
import { type SshdServer, startSshd } from './sshd.ts';

export const needsRoot = true;

/*
 * A Raspberry Pi 5 of the lab, as far as deploy can tell over SSH: one network namespace, a USB disk
 * (a loop device) and two identities that take turns answering on it, each a real OpenSSH server
 * in its own UTS and mount namespace:
 *   - the node (`pi1`, port 22) runs "from the USB disk": its /boot/firmware holds the files of the
 *     disk's boot partition, its hostname is the one the first-boot script there names;
 *   - the imager (`imager1`, port 2222) runs "from the SD card" (the machine's own root disk here),
 *     sees the share at /home/partimag (NFS cannot be mounted here: a bind mount stands in for it)
 *     and the USB disk as the loop device, and restores it with the real ocs-sr.
 * Only what is physically absent is a double, on PATH (/usr/local/sbin) in both identities and
 * recording every call: `vcgencmd` (bootloader date), `vcmailbox` (the one-shot boot order) and
 * `reboot` (also bound over systemctl, so that nothing reaches this machine's own init). A reboot
 * stops the identity with everything it started and boots the next one the way the bootloader
 * would: SD once after the one-shot order, else USB when its boot partition has a config.txt.
 */

export type Identity = 'node' | 'imager';

export interface FakePiOptions {
  readonly name: string;
  readonly imagerName: string;
  readonly netns: Netns;
  /** The Pi's address inside `netns`. */
  readonly address: string;
  readonly authorizedKeys: string;
  /** The published share, seen by the imager at /home/partimag. */
  readonly shareDir: string;
  readonly disk: LoopDevice;
  /** Harness files (host keys, boot files, call log); not under /tmp, which the identities replace. */
  readonly stateDir: string;
  readonly startAs: Identity;
  /** `old`: a bootloader from before one-shot boot orders (2024). */
  readonly bootloader?: 'current' | 'old';
  /** The hostname the imager answers with, when it is not the expected one. */
  readonly imagerAnswersAs?: string;
  /** A partition device mounted at the imager's /boot/firmware (the disk it runs from). */
  readonly imagerBootDevice?: string;
  /** An identity that never comes up after a reboot (the Pi stays silent). */
  readonly neverBoots?: Identity;
  /** dnsmasq's lease file as the node sees it (a router's), bound at /var/lib/misc/dnsmasq.leases. */
  readonly leasesFile?: string;
  /** A machine that hangs on its way down: asked to power off, it goes on answering. */
  readonly ignoresPoweroff?: boolean;
  /** A login user besides root (both identities), with sudo as the audit leaves it. */
  readonly loginUser?: LoginUser;
}

export interface FakePi {
  readonly name: string;
  readonly address: string;
  readonly nodePort: number;
  readonly imagerPort: number;
  identity(): Identity | 'off';
  /** `known_hosts` lines for both identities as they are now. */
  knownHostsLines(): Promise<string[]>;
  /** Calls to the doubles, `<epoch seconds> <hostname> <command line>`, oldest first. */
  calls(): Promise<string[]>;
  /** When it powered off (ms since the epoch), oldest first. */
  poweredOffAt(): readonly number[];
  /** Every identity that came up, with the time it did (ms since the epoch), oldest first. */
  boots(): readonly { readonly identity: Identity; readonly at: number }[];
  /** Resolves once the identity answers (after its reboot). */
  waitFor(identity: Identity, timeoutMs: number): Promise<void>;
  /** The restore job the imager runs (its pid file in /run/pi-lab), once it exists. */
  restoreJobStarted(): boolean;
  /** Drops every SSH connection; what they started detached goes on (a network cut). */
  cutConnections(): Promise<void>;
  stop(): Promise<void>;
}

const NODE_PORT = 22;
const IMAGER_PORT = 2222;
const BOOT_DELAY_MS = 300;
const WATCH_INTERVAL_MS = 100;
const CURRENT_BOOTLOADER = '2025/02/12 10:51:52\nversion 8ae6f44a (release)\ntimestamp 1739357512';
const OLD_BOOTLOADER = '2024/09/23 13:02:56\nversion 0b2b3a5d (release)\ntimestamp 1727092976';
const SYSTEMCTL = '/usr/bin/systemctl';

export async function startFakePi(options: FakePiOptions): Promise<FakePi> {
  const dirs = {
    doubles: path.join(options.stateDir, 'bin'),
    boot: path.join(options.stateDir, 'usb-boot'),
    keys: path.join(options.stateDir, 'keys'),
    runs: path.join(options.stateDir, 'imager-runs'),
    calls: path.join(options.stateDir, 'calls.log'),
    oneShot: path.join(options.stateDir, 'one-shot-sd'),
    rebootRequest: path.join(options.stateDir, 'reboot-request'),
    poweroffRequest: path.join(options.stateDir, 'poweroff-request'),
  };
  for (const dir of [dirs.doubles, dirs.boot, dirs.keys, dirs.runs]) await mkdir(dir, { recursive: true });
  for (const mountPoint of ['/run/pi-lab', '/run/sshd']) await mkdir(mountPoint, { recursive: true });
  await writeDoubles(dirs.doubles, dirs, options.bootloader === 'old' ? OLD_BOOTLOADER : CURRENT_BOOTLOADER);
  await writeFile(dirs.calls, '');
  // The USB disk before this deploy: an older install that names the host and boots.
  await writeFile(path.join(dirs.boot, 'config.txt'), '[all]\narm_64bit=1\n');
  await writeFile(path.join(dirs.boot, 'firstrun.sh'), `#!/bin/bash\nset_hostname ${options.name}\n`);

  const userBinds = options.loginUser
    ? await loginUserBinds(path.join(options.stateDir, 'etc'), options.loginUser)
    : [];
  const imagerKey = await newHostKey(dirs.keys, 'imager');
  let nodeKey = await newHostKey(dirs.keys, 'node-0');
  let nodeHostname = options.name;
  let bootFilesSeen = await bootFilesDigest(dirs.boot);
  let imagerRuns = 0;
  let currentRunDir = '';
  let current: { identity: Identity; server: SshdServer } | undefined;
  const boots: { identity: Identity; at: number }[] = [];
  const poweredOff: number[] = [];
  const life = { stopped: false };
  const stopping = (): boolean => life.stopped;

  const launch = async (identity: Identity): Promise<void> => {
    if (identity === options.neverBoots) return;
    const hostname = identity === 'node' ? nodeHostname : (options.imagerAnswersAs ?? options.imagerName);
    if (identity === 'imager') {
      currentRunDir = path.join(dirs.runs, String(++imagerRuns));
      await mkdir(currentRunDir, { recursive: true });
    }
    // Each boot has its own boot id, as the kernel gives a real one: how a reboot is told from a blip.
    const bootIdFile = path.join(options.stateDir, `boot-id-${boots.length}`);
    await writeFile(bootIdFile, `${randomUUID()}\n`);
    const setup = mountScript(identity, hostname, dirs, currentRunDir, options, bootIdFile, userBinds);
    const server = await startSshd({
      netns: options.netns,
      listenAddress: options.address,
      port: identity === 'node' ? NODE_PORT : IMAGER_PORT,
      authorizedKeys: options.authorizedKeys,
      hostKey: identity === 'node' ? nodeKey : imagerKey,
      parentDir: path.join(options.stateDir, 'sshd'),
      launcher: (program, args) => ({
        program: 'unshare',
        args: [
          '--uts',
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          setup,
          'fake-pi',
          program,
          ...args,
        ],
      }),
    });
    current = { identity, server };
    boots.push({ identity, at: Date.now() });
  };

  /** What the bootloader does after `reboot` from `from`. */
  const reboot = async (from: Identity): Promise<void> => {
    await current?.server.stop();
    current = undefined;
    await sleep(BOOT_DELAY_MS);
    if (from === 'imager') {
      // The disk may have been written: the node boots what is on it now, with new host keys.
      const extracted = await extractBootFiles(options.disk.file, dirs.boot);
      const digest = await bootFilesDigest(dirs.boot);
      if (extracted && digest !== bootFilesSeen) {
        bootFilesSeen = digest;
        nodeHostname = await hostnameFromBootFiles(dirs.boot, nodeHostname);
        nodeKey = await newHostKey(dirs.keys, `node-${Date.now()}`);
      }
    }
    const oneShot = existsSync(dirs.oneShot);
    await rm(dirs.oneShot, { force: true });
    const usbBoots = existsSync(path.join(dirs.boot, 'config.txt'));
    await launch(oneShot || !usbBoots ? 'imager' : 'node');
  };

  const watching = (async () => {
    while (!life.stopped) {
      const from = current?.identity;
      if (from && existsSync(dirs.poweroffRequest)) {
        await rm(dirs.poweroffRequest, { force: true });
        if (options.ignoresPoweroff) continue;
        await sleep(200);
        // Off until its power is cut and restored: nothing boots by itself.
        await current?.server.stop();
        current = undefined;
        poweredOff.push(Date.now());
      }
      if (from && existsSync(dirs.rebootRequest)) {
        await rm(dirs.rebootRequest, { force: true });
        // A real reboot takes the connection down a moment after the command returns.
        await sleep(200);
        // Stopped meanwhile: the test is over, nothing boots.
        if (!stopping()) await reboot(from);
      }
      await sleep(WATCH_INTERVAL_MS);
    }
  })();

  await launch(options.startAs);

  return {
    name: options.name,
    address: options.address,
    nodePort: NODE_PORT,
    imagerPort: IMAGER_PORT,
    identity: () => current?.identity ?? 'off',
    boots: () => boots,
    poweredOffAt: () => poweredOff,
    knownHostsLines: async () => [
      `${knownHostsName(options.address, NODE_PORT)} ${await publicKeyOf(nodeKey)}`,
      `${knownHostsName(options.address, IMAGER_PORT)} ${await publicKeyOf(imagerKey)}`,
    ],
    calls: async () =>
      (await readFile(dirs.calls, 'utf8'))
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean),
    waitFor: async (identity, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      while (current?.identity !== identity) {
        if (Date.now() > deadline) throw new Error(`${options.name}: ${identity} did not come up`);
        await sleep(WATCH_INTERVAL_MS);
      }
    },
    restoreJobStarted: () =>
      current?.identity === 'imager' && existsSync(path.join(currentRunDir, `restore-${options.name}.pid`)),
    cutConnections: async () => current?.server.killSessions({ connectionsOnly: true }),
    stop: async () => {
      life.stopped = true;
      await watching;
      await current?.server.stop();
      current = undefined;
    },
  };
}

/** The shell that sets an identity's namespace up, then execs sshd (`"$@"`). */
function mountScript(
  identity: Identity,
  hostname: string,
  dirs: { doubles: string; boot: string },
  runDir: string,
  options: FakePiOptions,
  bootIdFile: string,
  userBinds: readonly string[],
): string {
  const q = shellQuote;
  // Host paths are bound before /tmp is replaced: the share may live under it.
  const lines = [
    'set -e',
    `hostname ${q(hostname)}`,
    `mount --bind ${q(dirs.doubles)} /usr/local/sbin`,
    // On every user's PATH too, as vcgencmd is on a Pi (/usr/bin): sshd gives a non-root user no sbin.
    `mount --bind ${q(dirs.doubles)} /usr/local/bin`,
    ...userBinds,
    // /sbin/reboot is a link to systemctl: whatever name is used, the double answers.
    ...(existsSync(SYSTEMCTL)
      ? [`mount --bind ${q(path.join(dirs.doubles, 'reboot'))} ${q(realpathSync(SYSTEMCTL))}`]
      : []),
    `mount --bind ${q(bootIdFile)} /proc/sys/kernel/random/boot_id`,
    'mount -t tmpfs tmpfs /boot',
    'mkdir /boot/firmware',
  ];
  if (identity === 'node') lines.push(`mount --bind ${q(dirs.boot)} /boot/firmware`);
  else {
    if (options.imagerBootDevice) lines.push(`mount -o ro ${q(options.imagerBootDevice)} /boot/firmware`);
    lines.push(
      'mount -t tmpfs tmpfs /home',
      'mkdir /home/partimag',
      `mount --bind ${q(options.shareDir)} /home/partimag`,
      `mount --bind ${q(runDir)} /run/pi-lab`,
      // Clonezilla's logs, per imager: several restore at once on this one machine.
      'mount -t tmpfs tmpfs /var/log',
    );
  }
  if (identity === 'node' && options.leasesFile)
    lines.push(
      'mkdir -p /var/lib/misc',
      'mount -t tmpfs tmpfs /var/lib/misc',
      `cp ${q(options.leasesFile)} /var/lib/misc/dnsmasq.leases`,
    );
  lines.push('mount -t tmpfs tmpfs /tmp');
  lines.push('exec "$@"');
  return lines.join('\n');
}

async function writeDoubles(
  dir: string,
  files: { calls: string; oneShot: string; rebootRequest: string; poweroffRequest: string },
  bootloader: string,
): Promise<void> {
  const q = shellQuote;
  const record = `echo "$(date +%s.%N) $(hostname) $(basename "$0") $*" >> ${q(files.calls)}`;
  const doubles: Record<string, string> = {
    vcgencmd: [
      record,
      'case "$1" in',
      `  bootloader_version) printf '%s\\n' ${q(bootloader)} ;;`,
      // Under-voltage has occurred since boot, as on a Pi 5 with a weak supply.
      '  get_throttled) echo throttled=0x50000 ;;',
      '  *) echo "vcgencmd (test double): $1 is not faked" >&2; exit 1 ;;',
      'esac',
    ].join('\n'),
    vcmailbox: [
      record,
      // Tag 0x0003808b sets the boot order for the next boot only; 0xf41: SD, then USB, then restart.
      `if [ "$*" = "0x0003808b 4 4 0xf41" ]; then touch ${q(files.oneShot)}; fi`,
      'echo "0x0000001c 0x80000000 0x0003808b 0x00000004 0x80000004 0x00000f41 0x00000000"',
    ].join('\n'),
    // Bound over systemctl too: `systemctl poweroff`, `poweroff` and `shutdown -h` power off.
    reboot: [
      record,
      'case "$(basename "$0") $*" in',
      `  *poweroff*|*halt*|"shutdown -h"*|"shutdown -P"*) touch ${q(files.poweroffRequest)} ;;`,
      `  *) touch ${q(files.rebootRequest)} ;;`,
      'esac',
    ].join('\n'),
  };
  for (const [name, body] of Object.entries(doubles)) {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n# Test double for the Pi's ${name}: records the call.\n${body}\n`);
    await chmod(file, 0o755);
  }
}

async function newHostKey(dir: string, name: string): Promise<string> {
  const file = path.join(dir, `ssh_host_ed25519_key-${name}`);
  await rm(file, { force: true });
  await rm(`${file}.pub`, { force: true });
  await runTool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `fake-pi-${name}`, '-f', file]);
  return file;
}

async function publicKeyOf(privateKeyFile: string): Promise<string> {
  return (await readFile(`${privateKeyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
}

/** Replaces `dir` with the files of the disk's boot partition; false when the disk has none yet. */
async function extractBootFiles(diskFile: string, dir: string): Promise<boolean> {
  const table = await readDiskTable(diskFile).catch(() => undefined);
  if (!table) return false;
  const offset = await partitionOffset(diskFile, 'boot').catch(() => undefined);
  if (offset === undefined) return false;
  const names = await listFatDir(diskFile, offset).catch(() => undefined);
  if (!names) return false;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const entry of names) {
    const name = path.posix.basename(entry);
    if (!/^[\w.+-]+$/.test(name)) continue;
    const text = await readFatText(diskFile, offset, name).catch(() => undefined);
    if (text !== undefined) await writeFile(path.join(dir, name), text);
  }
  return true;
}

async function bootFilesDigest(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const parts = await Promise.all(
    names.map(async (name) => `${name}\n${await readFile(path.join(dir, name), 'utf8').catch(() => '')}`),
  );
  return parts.join('\0');
}

/** What the first boot would name the host: Imager's firstrun.sh or cloud-init's user-data. */
async function hostnameFromBootFiles(dir: string, fallback: string): Promise<string> {
  const firstrun = await readFile(path.join(dir, 'firstrun.sh'), 'utf8').catch(() => '');
  const fromFirstrun =
    /set_hostname\s+(\S+)/.exec(firstrun)?.[1] ?? /CURRENT_HOSTNAME=(\S+)/.exec(firstrun)?.[1];
  if (fromFirstrun && fromFirstrun !== '$CURRENT_HOSTNAME') return fromFirstrun;
  const userData = await readFile(path.join(dir, 'user-data'), 'utf8').catch(() => '');
  return /^hostname:\s*(\S+)/m.exec(userData)?.[1] ?? fallback;
}
