import { UserError } from '../errors.ts';
import type { Lab } from '../lab/lab-types.ts';
import { parseShareTarget, type ShareTarget } from '../values/share-target.ts';

/** `--to` when given (relative to the working directory), else the lab's share.target. */
export function resolveShareOption(to: string | undefined, lab: Lab, command: string): ShareTarget {
  if (to !== undefined) {
    const target = parseShareTarget(to, process.cwd());
    if ('problem' in target)
      throw new UserError(`--to ${to} ${target.problem}.`, [
        'Give a directory or sftp://[user@]host[:port]/path.',
      ]);
    return target;
  }
  if (lab.share) return lab.share.target;
  throw new UserError(`${command} needs a share: pass --to, or add share.target to ${lab.file}.`, [
    'e.g. share: { target: "sftp://pi@192.168.87.2/srv/os_images", nfs: "192.168.87.2:/srv/os_images" }',
  ]);
}
