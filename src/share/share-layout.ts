/*
 * The share, as imagers see it under /home/partimag:
 *   pi1 -> .pi-lab/hosts/pi1/pi1-37f1bf6c2ea9   current version: what `ocs-sr restoredisk pi1 sda` reads
 *   .pi-lab/objects/<sha256>                    every distinct file once (the root image of all nodes)
 *   .pi-lab/segments/<sha256>.json              where a big stored file's gzip members start, and their digests
 *   .pi-lab/hosts/pi1/<version>/                a complete Clonezilla image: hard links into objects/
 *   .pi-lab/hosts/pi1/history.json              which version was made current when (for rollback)
 *   .pi-lab/incoming/<publish id>/              uploads and versions being assembled; emptied by the next run
 *   .pi-lab/lock/                               held while a publish or rollback changes the share
 */

export const STATE_DIR = '.pi-lab';
export const OBJECTS_DIR = `${STATE_DIR}/objects`;
export const INCOMING_DIR = `${STATE_DIR}/incoming`;
/** Segment lists of the big stored files: what a later upload may copy instead of sending. */
export const SEGMENTS_DIR = `${STATE_DIR}/segments`;
export const LOCK_DIR = `${STATE_DIR}/lock`;
export const PUBLISHED_FILE = 'pi-lab-published.json';

export function objectPath(sha256: string): string {
  return `${OBJECTS_DIR}/${sha256}`;
}

export function segmentsPath(sha256: string): string {
  return `${SEGMENTS_DIR}/${sha256}.json`;
}

export function hostVersionsDir(host: string): string {
  return `${STATE_DIR}/hosts/${host}`;
}

export function versionDir(host: string, version: string): string {
  return `${hostVersionsDir(host)}/${version}`;
}

/** Which versions were made current, and when (oldest first): what rollback goes back along. */
export function historyFile(host: string): string {
  return `${hostVersionsDir(host)}/history.json`;
}

export interface SwitchRecord {
  readonly version: string;
  readonly at: string;
  readonly by: string;
}

/** The current version's symlink, at the share's root under the host's name; its target is relative. */
export function currentLink(host: string): string {
  return host;
}

export function incomingDir(publishId: string): string {
  return `${INCOMING_DIR}/${publishId}`;
}

/** The version a current-link target names, if it has the layout's form. */
export function versionOfLink(host: string, target: string): string | undefined {
  const prefix = `${hostVersionsDir(host)}/`;
  if (!target.startsWith(prefix)) return undefined;
  const version = target.slice(prefix.length);
  return version && !version.includes('/') ? version : undefined;
}

/** What a published version records beside its files. */
export interface PublishedRecord {
  readonly host: string;
  readonly version: string;
  readonly publishedAt: string;
  readonly publishedFrom: string;
  readonly bytes: number;
}
