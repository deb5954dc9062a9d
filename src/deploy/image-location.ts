import path from 'node:path';
import { hostVersionsDir } from '../share/share-layout.ts';

/** Where ocs-sr finds the image on the imager: `-or <root> restoredisk <name> <disk>`. */
export interface ImageLocation {
  readonly root: string;
  readonly name: string;
  /** root/name */
  readonly dir: string;
}

/** The current version is the image under the host's own name; an older one is found by version. */
export function imageLocation(imageRoot: string, host: string, version?: string): ImageLocation {
  const root = version === undefined ? imageRoot : path.posix.join(imageRoot, hostVersionsDir(host));
  const name = version ?? host;
  return { root, name, dir: path.posix.join(root, name) };
}
