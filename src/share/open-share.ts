import { stat } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { LocalShareFs } from './local-share-fs.ts';
import type { ShareFs } from './share-fs.ts';
import type { ShareTarget } from '../values/share-target.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { labEndpoint, type LabReach, sshSettings } from '../ssh/lab-ssh.ts';
import { SftpShareFs } from './sftp-share-fs.ts';

/** Opens the share: a local directory (which must exist: an unmounted NFS share must not fill the local disk). */
export async function openShare(target: ShareTarget, lab: LabReach): Promise<ShareFs> {
  if (target.kind === 'local') {
    const info = await stat(target.dir).catch(() => undefined);
    if (!info?.isDirectory())
      throw new UserError(`The share ${target.dir} is not a directory.`, [
        'Create it, or mount the NFS share there, and run this again.',
      ]);
    return new LocalShareFs(target.dir);
  }
  const session = await connectSsh(
    labEndpoint(lab, target.host, { port: target.port, ...(target.user ? { user: target.user } : {}) }),
    sshSettings(lab.ssh),
  );
  try {
    return await SftpShareFs.open(session, target.dir);
  } catch (error) {
    await session.close();
    throw error;
  }
}
