import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { releaseLock, tryLock, withSlot } from './dir-lock.ts';
import { runTool } from './spawn-tool.ts';
import { isProcessAlive } from './temp-dir.ts';

/*
 * Network namespaces joined by veth pairs, for tests that need hosts the test process cannot reach
 * directly (jump hosts). Root only. Traffic stays on these links: namespaces get no default route,
 * and a subnet between two namespaces gets an `unreachable` route in the host namespace, so a
 * connection to it fails at once instead of leaving through the host's default route.
 *
 * Names carry the pid of the test process (`pl<pid>n<k>`, veths `pl<pid>v<k>a|b`, at most 15
 * characters), so parallel ava workers never collide and leftovers of a dead process are
 * recognised and removed. Subnets are /30 blocks of 10.213.0.0/16 (the `home` pool) or of
 * 10.214.0.0/16 (the `lab` pool, for a test whose lab subnet must hold some links and not others),
 * each held by a mkdir lock.
 */

const IP = existsSync('/usr/sbin/ip') ? '/usr/sbin/ip' : 'ip';
const LOCK_DIR = path.join(os.tmpdir(), 'pi-lab-locks');
const SETUP_LOCK = path.join(LOCK_DIR, 'netns-setup');
const SETUP_LOCK_WAIT_MS = 120_000;
const BLOCKS = 16_384;
const NAMESPACE_NAME = /^pl(\d+)n\d+$/;
const VETH_NAME = /^pl(\d+)v\d+[ab]$/;
const SUBNET = /^10\.(213|214)\.(\d+)\.(\d+)\/30$/;

/** Address pools: the second octet of a /16 and the lock names of its /30 blocks. */
export type AddressPool = 'home' | 'lab';
const POOLS: Readonly<Record<AddressPool, { readonly octet: number; readonly lockPrefix: string }>> = {
  home: { octet: 213, lockPrefix: 'netns-block-' },
  lab: { octet: 214, lockPrefix: 'netns-lab-block-' },
};
/** The `lab` pool as a CIDR: every `lab` link lies inside it, no `home` link does. */
export const LAB_POOL_CIDR = '10.214.0.0/16';

export interface Netns {
  readonly name: string;
  /** The argv that runs `program` inside the namespace. */
  readonly wrap: (program: string, args: readonly string[]) => { program: string; args: string[] };
}

/** A veth pair with a /30 subnet: `left` is the host (root namespace) or a namespace. */
export interface VethLink {
  readonly subnet: string;
  readonly leftAddress: string;
  readonly rightAddress: string;
}

export interface NetLab {
  /** A new namespace with only `lo` up. */
  namespace(): Promise<Netns>;
  /** A /30 from the `home` pool unless `options.pool` says `lab`. */
  link(left: Netns | 'host', right: Netns, options?: { readonly pool?: AddressPool }): Promise<VethLink>;
  /** Removes every namespace, veth, route and subnet lock of this lab; safe to call twice. */
  teardown(): Promise<void>;
}

interface Block {
  readonly index: number;
  readonly lock: string;
  readonly subnet: string;
  /** Set when the host namespace got an `unreachable` route for the subnet. */
  unreachable: boolean;
}

interface LabState {
  readonly namespaces: Set<string>;
  /** Every veth made, by name: one left in the host namespace by a failed link() is removed too. */
  readonly veths: Set<string>;
  readonly blocks: Set<Block>;
}

let counter = 0;
const labs = new Set<LabState>();

export function makeNetLab(): NetLab {
  const state: LabState = { namespaces: new Set(), veths: new Set(), blocks: new Set() };
  labs.add(state);
  return {
    async namespace() {
      const name = `pl${process.pid}n${++counter}`;
      state.namespaces.add(name);
      await ip(['netns', 'add', name]);
      await ip(['-n', name, 'link', 'set', 'lo', 'up']);
      return {
        name,
        wrap: (program, args) => ({ program: IP, args: ['netns', 'exec', name, program, ...args] }),
      };
    },
    async link(left, right, options = {}) {
      const pool = options.pool ?? 'home';
      const block = await withSlot(SETUP_LOCK, 1, SETUP_LOCK_WAIT_MS, async () => {
        await reapLeftoversLocked();
        return takeBlock(pool);
      });
      state.blocks.add(block);
      const k = ++counter;
      const [leftVeth, rightVeth] = [`pl${process.pid}v${k}a`, `pl${process.pid}v${k}b`];
      state.veths.add(leftVeth);
      state.veths.add(rightVeth);
      await ip(['link', 'add', leftVeth, 'type', 'veth', 'peer', 'name', rightVeth]);
      if (left !== 'host') await ip(['link', 'set', leftVeth, 'netns', left.name]);
      await ip(['link', 'set', rightVeth, 'netns', right.name]);
      const [leftAddress, rightAddress] = blockAddresses(pool, block.index);
      const leftNs = left === 'host' ? [] : ['-n', left.name];
      await ip([...leftNs, 'addr', 'add', `${leftAddress}/30`, 'dev', leftVeth]);
      await ip([...leftNs, 'link', 'set', leftVeth, 'up']);
      await ip(['-n', right.name, 'addr', 'add', `${rightAddress}/30`, 'dev', rightVeth]);
      await ip(['-n', right.name, 'link', 'set', rightVeth, 'up']);
      if (left !== 'host') {
        block.unreachable = true;
        await ip(['route', 'replace', 'unreachable', block.subnet]);
      }
      return { subnet: block.subnet, leftAddress, rightAddress };
    },
    async teardown() {
      // Deleting a namespace deletes the veths in it, and with them their peers.
      for (const name of state.namespaces) await ip(['netns', 'del', name]).catch(() => undefined);
      for (const veth of state.veths) await deleteLinkIfPresent(veth);
      for (const block of state.blocks) {
        if (block.unreachable) await ip(['route', 'del', 'unreachable', block.subnet]).catch(() => undefined);
        await releaseLock(block.lock);
      }
      state.namespaces.clear();
      state.veths.clear();
      state.blocks.clear();
      labs.delete(state);
    },
  };
}

async function ip(args: readonly string[]): Promise<string> {
  return (await runTool(IP, args, { timeoutMs: 60_000 })).toString('utf8');
}

async function deleteLinkIfPresent(name: string): Promise<void> {
  const present = await ip(['-o', 'link', 'show', 'dev', name]).catch(() => '');
  if (present) await ip(['link', 'del', name]).catch(() => undefined);
}

function blockAddresses(pool: AddressPool, index: number): [string, string] {
  const base = `10.${POOLS[pool].octet}.${index >> 6}.`;
  const offset = (index & 63) * 4;
  return [`${base}${offset + 1}`, `${base}${offset + 2}`];
}

function blockLock(pool: AddressPool, index: number): string {
  return path.join(LOCK_DIR, `${POOLS[pool].lockPrefix}${index}`);
}

async function takeBlock(pool: AddressPool): Promise<Block> {
  const start = (process.pid * 37 + counter) % BLOCKS;
  const octet = POOLS[pool].octet;
  for (let step = 0; step < BLOCKS; step++) {
    const index = (start + step) % BLOCKS;
    const lock = blockLock(pool, index);
    // tryLock breaks the lock of a dead owner but reports false: one more try takes it.
    if ((await tryLock(lock)) || (await tryLock(lock))) {
      return { index, lock, subnet: `10.${octet}.${index >> 6}.${(index & 63) * 4}/30`, unreachable: false };
    }
  }
  throw new Error(`no free /30 subnet left in 10.${octet}.0.0/16`);
}

/** Namespaces, veths and routes of test processes that died before their teardown. */
async function reapLeftoversLocked(): Promise<void> {
  for (const line of (await ip(['netns', 'list'])).split('\n')) {
    const name = line.trim().split(/\s+/)[0] ?? '';
    const pid = NAMESPACE_NAME.exec(name)?.[1];
    if (pid && !isProcessAlive(Number(pid))) await ip(['netns', 'del', name]).catch(() => undefined);
  }
  for (const line of (await ip(['-o', 'link', 'show'])).split('\n')) {
    const name = /^\d+:\s+([^@:\s]+)/.exec(line)?.[1] ?? '';
    const pid = VETH_NAME.exec(name)?.[1];
    if (pid && !isProcessAlive(Number(pid))) await ip(['link', 'del', name]).catch(() => undefined);
  }
  for (const line of (await ip(['-4', 'route', 'show', 'type', 'unreachable'])).split('\n')) {
    const subnet = line.trim().split(/\s+/)[1] ?? '';
    const match = SUBNET.exec(subnet);
    if (!match) continue;
    const pool: AddressPool = match[1] === '214' ? 'lab' : 'home';
    const index = Number(match[2]) * 64 + Number(match[3]) / 4;
    const lock = blockLock(pool, index);
    const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => ''));
    if (owner > 0 && isProcessAlive(owner)) continue;
    await ip(['route', 'del', 'unreachable', subnet]).catch(() => undefined);
    if (owner > 0) await releaseLock(lock);
  }
}

// A test that throws still runs its teardown; this covers a worker that exits without unwinding.
process.once('exit', () => {
  for (const state of labs) {
    for (const name of state.namespaces) spawnSync(IP, ['netns', 'del', name], { stdio: 'ignore' });
    for (const veth of state.veths) spawnSync(IP, ['link', 'del', veth], { stdio: 'ignore' });
    for (const block of state.blocks) {
      if (block.unreachable)
        spawnSync(IP, ['route', 'del', 'unreachable', block.subnet], { stdio: 'ignore' });
      rmSync(block.lock, { recursive: true, force: true });
    }
  }
});
