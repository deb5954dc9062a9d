import { stat } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import type { LabSsh } from '../lab/lab-types.ts';
import { LocalShareFs } from './local-share-fs.ts';
import type { ShareFs } from './share-fs.ts';
import type { ShareTarget } from './share-target.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { jumpEndpoint, sshSettings } from '../ssh/lab-ssh.ts';
import { SftpShareFs } from './sftp-share-fs.ts';

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
  const session = await connectSsh(
    {
      host: target.host,
      port: target.port,
      user: target.user ?? ssh.user,
      ...(ssh.jump ? { jump: jumpEndpoint(ssh.jump, ssh.user) } : {}),
    },
    sshSettings(ssh),
  );
  try {
    return await SftpShareFs.open(session, target.dir);
  } catch (error) {
    await session.close();
    throw error;
  }
}
