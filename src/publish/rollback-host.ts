import os from 'node:os';
import { UserError } from '../errors.ts';
import type { ShareFs } from '../share/share-fs.ts';
import { type HostOnShare, missingFilesOf, readHostOnShare } from '../share/read-share-state.ts';
import { acquireShareLock } from '../share/share-lock.ts';
import { incomingDir } from '../share/share-layout.ts';
import { readHistory, switchCurrent } from './switch-current.ts';

export interface RollbackResult {
  readonly host: string;
  readonly from?: string;
  readonly to: string;
  /** The requested version was current already. */
  readonly unchanged: boolean;
}

/** Makes an earlier version current again: `to`, or the one that was current before this one. */
export async function rollbackHost(share: ShareFs, host: string, to?: string): Promise<RollbackResult> {
  const lock = await acquireShareLock(share, 'npm run rollback');
  const scratch = incomingDir(
    `rollback-${os.hostname()}-${process.pid}-${Date.now()}`.replace(/[^\w.-]/g, '_'),
  );
  try {
    const state = await readHostOnShare(share, host);
    if (state.versions.length === 0)
      throw new UserError(`${share.description} has no published version of ${host}.`, [
        `Publish it first: npm run publish -- ${host}`,
      ]);
    const target = to ?? (await previousVersion(share, state));
    if (!state.versions.some((v) => v.version === target))
      throw new UserError(`${share.description} has no version ${target} of ${host}.`, [
        `Versions there: ${state.versions.map((v) => v.version).join(', ')} (npm run images lists them).`,
      ]);
    const from = state.current;
    const base = { host, to: target, ...(from === undefined ? {} : { from }) };
    if (target === from) return { ...base, unchanged: true };
    const missing = await missingFilesOf(share, host, target);
    if (missing.length > 0)
      throw new UserError(`${host}: version ${target} on ${share.description} is incomplete.`, [
        `Missing or truncated: ${missing.join(', ')}. Choose another version with --to.`,
      ]);
    await switchCurrent(share, host, target, 'rollback', scratch);
    return { ...base, unchanged: false };
  } finally {
    await share.removeTree(scratch).catch(() => undefined);
    await lock.release().catch(() => undefined);
  }
}

/** The version current before this one (per the history), else the newest other one still stored. */
async function previousVersion(share: ShareFs, state: HostOnShare): Promise<string> {
  const stored = new Set(state.versions.map((v) => v.version));
  const history = await readHistory(share, state.host);
  for (const entry of [...history].reverse()) {
    if (entry.version !== state.current && stored.has(entry.version)) return entry.version;
  }
  const other = state.versions.find((v) => v.version !== state.current);
  if (other) return other.version;
  throw new UserError(
    `${share.description} holds only the current version of ${state.host} (${state.current ?? '?'}).`,
    ['There is nothing earlier to roll back to.'],
  );
}
