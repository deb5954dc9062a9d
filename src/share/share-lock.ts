import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.ts';
import { isProcessAlive } from '../exec/is-process-alive.ts';
import type { ShareFs } from './share-fs.ts';
import { LOCK_DIR, STATE_DIR } from './share-layout.ts';

const OWNER_FILE = `${LOCK_DIR}/owner.json`;
/** A holder refreshes its lock this often; a lock not refreshed for STALE_MS belongs to a dead run. */
const HEARTBEAT_MS = 20_000;
const STALE_MS = 120_000;
const OWNERLESS_GRACE_MS = 2_000;

interface LockOwner {
  readonly command: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly heartbeatAt: string;
}

export interface ShareLock {
  release(): Promise<void>;
}

/**
 * One publish or rollback at a time changes a share: a directory created atomically, holding who
 * took it. A lock whose holder died (same machine and its pid gone, or no heartbeat for two
 * minutes) is taken over, so a killed run never blocks the next one.
 */
export async function acquireShareLock(share: ShareFs, command: string): Promise<ShareLock> {
  await share.mkdirp(STATE_DIR);
  const startedAt = new Date().toISOString();
  const owner = (): LockOwner => ({
    command,
    host: os.hostname(),
    pid: process.pid,
    startedAt,
    heartbeatAt: new Date().toISOString(),
  });
  if (!(await share.mkdirExclusive(LOCK_DIR))) {
    // A lock without its owner file is either just being taken or was left by a crash right after.
    const holder = (await readOwner(share)) ?? (await sleep(OWNERLESS_GRACE_MS).then(() => readOwner(share)));
    if (holder && !isStale(holder)) throw lockedError(share, holder);
    await share.removeTree(LOCK_DIR);
    if (!(await share.mkdirExclusive(LOCK_DIR))) {
      const winner = await readOwner(share);
      throw lockedError(share, winner);
    }
  }
  await writeOwner(share, owner());
  let beating = Promise.resolve();
  const timer = setInterval(() => {
    beating = beating.then(() => writeOwner(share, owner())).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    release: async () => {
      clearInterval(timer);
      await beating;
      await share.removeTree(LOCK_DIR);
    },
  };
}

async function writeOwner(share: ShareFs, owner: LockOwner): Promise<void> {
  const temporary = `${OWNER_FILE}.tmp`;
  await share.writeText(temporary, `${JSON.stringify(owner, null, 2)}\n`);
  await share.rename(temporary, OWNER_FILE);
}

async function readOwner(share: ShareFs): Promise<LockOwner | undefined> {
  const text = await share.readText(OWNER_FILE);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LockOwner;
  } catch {
    return undefined;
  }
}

function isStale(owner: LockOwner): boolean {
  if (owner.host === os.hostname() && !isProcessAlive(owner.pid)) return true;
  return Date.now() - Date.parse(owner.heartbeatAt) > STALE_MS;
}

function lockedError(share: ShareFs, owner: LockOwner | undefined): UserError {
  const who = owner
    ? `${owner.command} on ${owner.host} (pid ${owner.pid}, since ${owner.startedAt})`
    : 'another run that is just starting';
  return new UserError(`${share.description} is being changed by ${who}.`, [
    'Wait for it to finish and run this again.',
    `A lock whose holder died is taken over automatically after ${STALE_MS / 60_000} minutes.`,
  ]);
}
