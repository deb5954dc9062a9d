import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Netns } from './netns.ts';
import { runTool } from './spawn-tool.ts';
import { isProcessAlive, makeTempDir, TEST_TEMP_PID, TEST_TEMP_PREFIX, type TempDir } from './temp-dir.ts';

/*
 * A real OpenSSH server per test: /usr/sbin/sshd -D -e with its own config, host key and
 * authorized_keys in a test temp dir, on loopback or inside a network namespace. sshd forks one
 * process per connection and each calls setsid(), so a process group does not hold them; and a
 * command outlives its session process when the client goes away (it is re-parented to init). So
 * every session gets `PI_LAB_TEST_SSHD=<temp dir>` in its environment (SetEnv), and stopping kills
 * the listener's descendants plus every process carrying that marker.
 */

const SSHD = '/usr/sbin/sshd';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_LIMIT = 1 << 20;
const MARKER = 'PI_LAB_TEST_SSHD';

export interface SshdOptions {
  /** Runs sshd inside this namespace (listenAddress must then be one of its addresses). */
  readonly netns?: Netns;
  /** Default 127.0.0.1. */
  readonly listenAddress?: string;
  /** Default: a free port on the host, 22 inside a namespace. */
  readonly port?: number;
  /** Sent before login (sshd's Banner). */
  readonly banner?: string;
  /** Public key lines that may log in (as any user, root included). */
  readonly authorizedKeys: string | readonly string[];
  /** sshd_config lines appended after ours (sshd keeps the first value of most keywords: ours win). */
  readonly extraConfig?: readonly string[];
  /** An existing private host key to serve (copied in), so that restarts keep one key; default a new one. */
  readonly hostKey?: string;
  /**
   * Where the server's temp dir is made, default the system's temp dir: a launcher that mounts
   * over /tmp needs it elsewhere (the name still carries the test's pid for leftover reaping).
   */
  readonly parentDir?: string;
  /**
   * Wraps sshd's command line, inside the namespace when there is one: e.g. `unshare -u -m … sh -c
   * '…; exec "$@"'`. It must end by exec'ing the command it was given, in the foreground.
   */
  readonly launcher?: (program: string, args: readonly string[]) => { program: string; args: string[] };
}

export interface SshdServer {
  readonly host: string;
  readonly port: number;
  /** `[host]:port ssh-ed25519 AAAA…` (just `host …` on port 22), ready for a known_hosts file. */
  readonly hostKeyLine: string;
  /** `ssh-ed25519 AAAA…` */
  readonly hostPublicKey: string;
  /** As `ssh-keygen -l` prints it: `SHA256:…` */
  readonly hostKeyFingerprint: string;
  readonly pid: number;
  readonly dir: string;
  /** sshd's stderr so far (LogLevel VERBOSE: logins, refusals, forwarding). */
  log(): string;
  /** Pids of the listener and of everything its sessions started that still runs (none after stop()). */
  processes(): number[];
  /**
   * Kills every per-connection sshd process (and what runs under them): connections drop, the
   * listener stays. Also what sessions started and left running detached (setsid), unless
   * `connectionsOnly`: then those go on, like after a network cut.
   */
  killSessions(options?: { readonly connectionsOnly?: boolean }): Promise<void>;
  /** Kills the sessions and the listener and removes the temp dir; idempotent. */
  stop(): Promise<void>;
}

export interface ClientKey {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  /** `ssh-ed25519 AAAA… comment` */
  readonly publicKey: string;
}

/** Running listeners and their temp dirs, for the exit hook. */
const running = new Map<ChildProcess, string>();

/** An ed25519 key pair made by ssh-keygen; with a passphrase when given. */
export async function makeClientKey(
  dir: string,
  options: { readonly name?: string; readonly passphrase?: string } = {},
): Promise<ClientKey> {
  const privateKeyFile = path.join(dir, options.name ?? 'id_ed25519');
  await runTool('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    options.passphrase ?? '',
    '-C',
    'pi-lab-test',
    '-f',
    privateKeyFile,
  ]);
  const publicKeyFile = `${privateKeyFile}.pub`;
  return { privateKeyFile, publicKeyFile, publicKey: (await readFile(publicKeyFile, 'utf8')).trim() };
}

/** Writes a known_hosts file holding the host keys of `servers`; returns its path. */
export async function knownHostsFor(file: string, ...servers: readonly SshdServer[]): Promise<string> {
  await writeFile(file, servers.map((server) => `${server.hostKeyLine}\n`).join(''));
  return file;
}

export async function startSshd(options: SshdOptions): Promise<SshdServer> {
  reapLeakedSshd();
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const temp = options.parentDir === undefined ? await makeTempDir() : await makeTempDirIn(options.parentDir);
  try {
    const dir = temp.path;
    const hostKey = path.join(dir, 'ssh_host_ed25519_key');
    if (options.hostKey === undefined)
      await runTool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pi-lab-test-sshd', '-f', hostKey]);
    else {
      await copyFile(options.hostKey, hostKey);
      await copyFile(`${options.hostKey}.pub`, `${hostKey}.pub`);
    }
    const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8'))
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .join(' ');
    const hostKeyFingerprint =
      (await runTool('ssh-keygen', ['-l', '-f', `${hostKey}.pub`])).toString().split(/\s+/)[1] ?? '';
    const keys =
      typeof options.authorizedKeys === 'string' ? [options.authorizedKeys] : options.authorizedKeys;
    await writeFile(path.join(dir, 'authorized_keys'), keys.map((key) => `${key.trim()}\n`).join(''));
    // sshd reads them as the user logging in, who need not be root (test/helpers/login-user.ts).
    await chmod(path.join(dir, 'authorized_keys'), 0o644);
    await chmod(dir, 0o711);
    if (options.banner !== undefined) await writeFile(path.join(dir, 'banner'), `${options.banner}\n`);
    await mkdir(path.join(dir, 'home'));

    const host = options.listenAddress ?? '127.0.0.1';
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (options.netns ? 22 : await freePort(host));
      const started = await launch(dir, host, port, hostKey, options);
      if ('child' in started) {
        return server(
          started.child,
          started.log,
          { dir, host, port, hostPublicKey, hostKeyFingerprint },
          () => temp.remove(),
        );
      }
      // Another process took the free port between our probe and sshd's bind: pick another.
      const portTaken = /Address already in use|Cannot bind any address/.test(started.log);
      if (!portTaken || options.port !== undefined || options.netns || attempt >= 5) {
        throw new Error(`sshd did not start: ${started.reason}\n${started.log}`);
      }
    }
  } catch (error) {
    await temp.remove();
    throw error;
  }
}

async function makeTempDirIn(parent: string): Promise<TempDir> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, `${TEST_TEMP_PREFIX}${process.pid}-`));
  return { path: dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

function config(dir: string, host: string, port: number, hostKey: string, options: SshdOptions): string {
  return [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'HostbasedAuthentication no',
    'PermitRootLogin prohibit-password',
    // Without PAM, sshd refuses accounts whose shadow password starts with '!' (locked), key or not.
    `UsePAM ${accountLocked(os.userInfo().username) ? 'yes' : 'no'}`,
    'Subsystem sftp internal-sftp',
    'AllowTcpForwarding yes',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'MaxStartups 100',
    'LogLevel VERBOSE',
    // HOME too: bash run by sshd sources ~/.bashrc, and a test must not depend on (or, killing a
    // session mid-way, damage) the dotfiles of the machine's own user.
    `SetEnv ${MARKER}=${dir} HOME=${path.join(dir, 'home')}`,
    ...(options.banner !== undefined ? [`Banner ${path.join(dir, 'banner')}`] : []),
    ...(options.extraConfig ?? []),
    '',
  ].join('\n');
}

function accountLocked(user: string): boolean {
  try {
    const entry = readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${user}:`));
    return entry?.split(':')[1]?.startsWith('!') ?? false;
  } catch {
    return false;
  }
}

type Launch = { child: ChildProcess; log: () => string } | { reason: string; log: string };

/** Starts sshd and waits for "Server listening on": listen() has then been called. */
async function launch(
  dir: string,
  host: string,
  port: number,
  hostKey: string,
  options: SshdOptions,
): Promise<Launch> {
  const configFile = path.join(dir, 'sshd_config');
  await writeFile(configFile, config(dir, host, port, hostKey, options));
  const launched = options.launcher
    ? options.launcher(SSHD, ['-D', '-e', '-f', configFile])
    : { program: SSHD, args: ['-D', '-e', '-f', configFile] };
  const { program, args } = options.netns ? options.netns.wrap(launched.program, launched.args) : launched;
  const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.set(child, dir);
  let log = '';
  child.stderr.on('data', (data: Buffer) => {
    if (log.length < LOG_LIMIT) log += data.toString('utf8');
  });
  const ready = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(
      () => resolve(`no "Server listening" within ${START_TIMEOUT_MS / 1000} s`),
      START_TIMEOUT_MS,
    );
    const check = (): void => {
      if (/Server listening on/.test(log)) finish(undefined);
    };
    const finish = (reason: string | undefined): void => {
      clearTimeout(timer);
      child.stderr.off('data', check);
      child.off('exit', onExit);
      child.off('error', onError);
      resolve(reason);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(`exited (${code ?? signal ?? '?'})`);
    const onError = (error: Error): void => finish(error.message);
    child.stderr.on('data', check);
    child.once('exit', onExit);
    child.once('error', onError);
    check();
  });
  if (ready === undefined) return { child, log: () => log };
  await killTree(child, dir);
  return { reason: ready, log };
}

function server(
  child: ChildProcess,
  log: () => string,
  facts: { dir: string; host: string; port: number; hostPublicKey: string; hostKeyFingerprint: string },
  removeDir: () => Promise<void>,
): SshdServer {
  const name = facts.port === 22 ? facts.host : `[${facts.host}]:${facts.port}`;
  let stopping: Promise<void> | undefined;
  return {
    ...facts,
    hostKeyLine: `${name} ${facts.hostPublicKey}`,
    pid: child.pid ?? -1,
    log,
    processes: () => {
      const table = processTable();
      const listener =
        child.pid !== undefined && table.some((entry) => entry.pid === child.pid) ? [child.pid] : [];
      return [...listener, ...sessionProcesses(child.pid ?? -1, facts.dir, table)];
    },
    killSessions: async (options = {}) => {
      if (child.pid === undefined) return;
      const killed = options.connectionsOnly
        ? descendantsOf(child.pid)
        : sessionProcesses(child.pid, facts.dir);
      killAll(killed);
      await untilGone(killed);
    },
    stop: () => {
      stopping ??= (async () => {
        await killTree(child, facts.dir);
        await removeDir();
      })();
      return stopping;
    },
  };
}

/** SIGKILLs the session processes and the listener, and waits for the listener to be reaped. */
async function killTree(child: ChildProcess, dir: string): Promise<void> {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  if (child.pid !== undefined) killAll([...sessionProcesses(child.pid, dir), child.pid]);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
  clearTimeout(timer);
  if (child.pid !== undefined) await untilGone(sessionProcesses(child.pid, dir));
  running.delete(child);
}

/** SIGKILL is delivered asynchronously: waits (boundedly) until none of `pids` runs any more. */
async function untilGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const alive = new Set(processTable().map((entry) => entry.pid));
    if (!pids.some((pid) => alive.has(pid)) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
  /** The sshd temp dir from the session marker in the environment, if any. */
  readonly sshdDir: string | undefined;
}

/** The listener's descendants and every process a session of this server started. */
function sessionProcesses(
  listener: number,
  dir: string,
  table: readonly ProcessEntry[] = processTable(),
): number[] {
  const marked = table.filter((entry) => entry.sshdDir === dir).map((entry) => entry.pid);
  return [...new Set([...descendantsOf(listener, table), ...marked])];
}

/** Synchronous so that the exit hook can use it. */
function processTable(): ProcessEntry[] {
  const table: ProcessEntry[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields 3 (state) and 4 (ppid) follow the command name in parentheses, which may itself hold spaces.
      const [state, ppidField] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // A zombie holds nothing and cannot be killed; init reaps it.
      if (state === 'Z') continue;
      const ppid = Number(ppidField);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      table.push({ pid: Number(entry), ppid, command, sshdDir: readMarker(entry) });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

function readMarker(pid: string): string | undefined {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    return environ.find((line) => line.startsWith(`${MARKER}=`))?.slice(MARKER.length + 1);
  } catch {
    // another user's process (when not root), or exited meanwhile
    return undefined;
  }
}

function descendantsOf(pid: number, table: readonly ProcessEntry[] = processTable()): number[] {
  const found: number[] = [];
  const queue = [pid];
  for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
    for (const entry of table) {
      if (entry.ppid === parent) {
        found.push(entry.pid);
        queue.push(entry.pid);
      }
    }
  }
  return found;
}

/** sshd listeners and session commands of test processes that are gone (the temp dir names the pid). */
function reapLeakedSshd(): void {
  const table = processTable();
  const ownerGone = (text: string): boolean => {
    const owner = TEST_TEMP_PID.exec(text)?.[1];
    return owner !== undefined && !isProcessAlive(Number(owner));
  };
  for (const entry of table) {
    // sshd rewrites its title: "sshd: /usr/sbin/sshd -D -e -f <config> [listener] …".
    const listener = entry.command.includes(`${SSHD} -D -e -f `) && ownerGone(entry.command);
    const session = entry.sshdDir !== undefined && ownerGone(entry.sshdDir);
    if (listener) killAll([...descendantsOf(entry.pid, table), entry.pid]);
    else if (session) killAll([entry.pid]);
  }
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port from the probe socket'));
      });
    });
  });
}

// A test that throws still runs its teardown; this covers a worker that exits without unwinding.
process.once('exit', () => {
  const table = processTable();
  for (const [child, dir] of running) {
    if (child.pid !== undefined) killAll([...sessionProcesses(child.pid, dir, table), child.pid]);
  }
});
