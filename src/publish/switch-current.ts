import type { ShareFs } from '../share/share-fs.ts';
import { currentLink, historyFile, type SwitchRecord, versionDir } from '../share/share-layout.ts';

const HISTORY_LENGTH = 50;

/**
 * One rename replaces the host's current link: an imager sees the old version or the new, never
 * neither. The switch is then added to the host's history, which rollback follows.
 */
export async function switchCurrent(
  share: ShareFs,
  host: string,
  version: string,
  by: string,
  scratchDir: string,
): Promise<void> {
  await share.mkdirp(scratchDir);
  const temporary = `${scratchDir}/${host}.current`;
  await share.removeTree(temporary);
  await share.symlink(versionDir(host, version), temporary);
  await share.rename(temporary, currentLink(host));
  const history = await readHistory(share, host);
  history.push({ version, at: new Date().toISOString(), by });
  await share.writeText(
    `${scratchDir}/${host}.history`,
    `${JSON.stringify(history.slice(-HISTORY_LENGTH), null, 2)}\n`,
  );
  await share.rename(`${scratchDir}/${host}.history`, historyFile(host));
}

export async function readHistory(share: ShareFs, host: string): Promise<SwitchRecord[]> {
  const text = await share.readText(historyFile(host));
  if (text === undefined) return [];
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? (parsed as SwitchRecord[]) : [];
  } catch {
    return [];
  }
}
