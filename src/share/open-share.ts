import { stat } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import type { LabSsh } from '../lab/lab-types.ts';
import { LocalShareFs } from './local-share-fs.ts';
import type { ShareFs } from './share-fs.ts';
import type { ShareTarget } from './share-target.ts';

/** Opens the share: a local directory (which must exist: an unmounted NFS share must not fill the local disk). */
export async function openShare(target: ShareTarget, ssh: LabSsh): Promise<ShareFs> {
  if (target.kind === 'local') {
    const info = await stat(target.dir).catch(() => undefined);
    if (!info?.isDirectory())
      throw new UserError(`The share ${target.dir} is not a directory.`, [
        'Create it, or mount the NFS share there, and run this again.',
      ]);
    return new LocalShareFs(target.dir);
  }
  throw new UserError(`sftp://${ssh.user}@${target.host}: SFTP shares are not supported yet.`);
}
