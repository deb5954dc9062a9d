import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { readManifest } from '../image/manifest.ts';
import { acquireOutputLock } from '../bake/output-directory.ts';
import { describeError, UserError } from '../errors.ts';
import { openShare } from '../share/open-share.ts';
import { readHostsOnShare } from '../share/read-share-state.ts';
import { describeShareTarget, type ShareTarget } from '../values/share-target.ts';
import type { LabReach } from '../ssh/lab-ssh.ts';
import { defineCommand } from './define-command.ts';
import { formatBytes, formatTable } from '../format-units.ts';
import { resolveShareOption } from './share-options.ts';

export const IMAGES_USAGE = `Usage: npm run images -- [--lab FILE] [--from DIR] [--share TARGET] [--local] [--remove-leftovers] [--json]

Lists each host's baked image (local) and its versions on the share, with dates and which is current.
A baked image whose host is no longer in the lab (or has no recipe) is listed as "left the lab".
  --from DIR            baked images (default images/)
  --share TARGET        a directory, or sftp://[user@]host[:port]/path (default: the lab's share.target)
  --local               list the local images only
  --remove-leftovers    remove the local images of hosts that left the lab (never done otherwise)`;

const LEFT_THE_LAB = 'left the lab';

interface ImageRow {
  readonly host: string;
  readonly where: 'local' | 'share';
  readonly version: string;
  readonly date?: string;
  readonly bytes?: number;
  /** local: the baked image, or one whose host left the lab; share: whether imagers restore this version now. */
  readonly state: 'baked' | typeof LEFT_THE_LAB | 'removed' | 'current' | '';
}

export const imagesCommand = defineCommand({
  name: 'images',
  usage: IMAGES_USAGE,
  options: {
    from: { type: 'string' },
    share: { type: 'string' },
    local: { type: 'boolean' },
    'remove-leftovers': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: 'nothing is changed by listing.',
  checkArguments: ({ positionals }) => {
    if (positionals.length > 0)
      throw new UserError(`images takes no host names (${positionals.join(' ')}).`, [IMAGES_USAGE]);
  },
  run: async ({ values, lab, name, projectDir, interruptibly }) => {
    const hosts = lab.hosts.filter((host) => host.recipe !== undefined).map((host) => host.name);
    const fromDir = path.resolve(values.from ?? path.join(projectDir, 'images'));
    const local = await localRows(fromDir, hosts);
    const rows: ImageRow[] = values['remove-leftovers'] ? await removeLeftovers(fromDir, local) : local;
    let shareError: string | undefined;
    let shareName: string | undefined;
    if (!values.local && (values.share !== undefined || lab.share)) {
      const target = resolveShareOption({ flag: '--share', value: values.share }, lab, name);
      shareName = describeShareTarget(target, lab.ssh.user);
      try {
        rows.push(...(await interruptibly(() => shareRows(target, lab, hosts))));
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        shareError = describeError(error);
      }
    }
    rows.sort((a, b) => a.host.localeCompare(b.host) || a.where.localeCompare(b.where));
    return {
      ok: !shareError,
      json: { share: shareName ?? null, shareError: shareError ?? null, images: rows },
      printText: () => {
        process.stdout.write(
          `${formatTable(
            ['host', 'where', 'version', 'date', 'size', 'state'],
            rows.map((r) => [
              r.host,
              r.where,
              r.version,
              r.date ?? '-',
              r.bytes === undefined ? '-' : formatBytes(r.bytes),
              r.state,
            ]),
          )}\n`,
        );
        if (shareName) process.stdout.write(`\nshare: ${shareName}\n`);
        if (shareError) process.stderr.write(`\nThe share could not be read:\n${shareError}\n`);
      },
    };
  },
});

/** Every baked host image under fromDir (a directory named after its host, holding a manifest). */
async function localRows(fromDir: string, hosts: readonly string[]): Promise<ImageRow[]> {
  const rows: ImageRow[] = [];
  const names = (await readdir(fromDir, { withFileTypes: true }).catch(() => []))
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  for (const name of names) {
    const dir = path.join(fromDir, name);
    const manifest = await readManifest(dir);
    if (manifest?.host !== name) continue;
    const info = await stat(dir);
    rows.push({
      host: name,
      where: 'local',
      version: manifest.version,
      date: info.mtime.toISOString(),
      bytes: Object.values(manifest.files).reduce((sum, file) => sum + file.size, 0),
      state: hosts.includes(name) ? 'baked' : LEFT_THE_LAB,
    });
  }
  return rows;
}

/** Under the bake's lock, so that no bake is writing there meanwhile. */
async function removeLeftovers(fromDir: string, rows: readonly ImageRow[]): Promise<ImageRow[]> {
  const leftovers = rows.filter((row) => row.state === LEFT_THE_LAB);
  if (leftovers.length === 0) return [...rows];
  const release = await acquireOutputLock(fromDir);
  try {
    for (const row of leftovers) {
      await rm(path.join(fromDir, row.host), { recursive: true, force: true });
      process.stderr.write(`removed ${path.join(fromDir, row.host)} (${row.host} left the lab)\n`);
    }
  } finally {
    await release();
  }
  return rows.map((row) => (row.state === LEFT_THE_LAB ? { ...row, state: 'removed' } : row));
}

async function shareRows(target: ShareTarget, lab: LabReach, hosts: readonly string[]): Promise<ImageRow[]> {
  const share = await openShare(target, lab);
  try {
    const known = new Set([...hosts, ...(await readHostsOnShare(share)).map((h) => h.host)]);
    const rows: ImageRow[] = [];
    for (const host of await readHostsOnShare(share, [...known])) {
      for (const version of host.versions) {
        rows.push({
          host: host.host,
          where: 'share',
          version: version.version,
          ...(version.record ? { date: version.record.publishedAt, bytes: version.record.bytes } : {}),
          state: version.version === host.current ? 'current' : '',
        });
      }
    }
    return rows;
  } finally {
    await share.close();
  }
}
