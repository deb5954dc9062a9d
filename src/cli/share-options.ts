import { UserError } from '../errors.ts';
import type { Lab } from '../lab/lab-types.ts';
import { parseShareTarget, type ShareTarget } from '../values/share-target.ts';

/** The command line's share option: publish calls it --to, images and rollback --share. */
export interface ShareOption {
  readonly flag: '--to' | '--share';
  readonly value: string | undefined;
}

/** The option's value when given (relative to the working directory), else the lab's share.target. */
export function resolveShareOption(option: ShareOption, lab: Lab, command: string): ShareTarget {
  if (option.value !== undefined) {
    const target = parseShareTarget(option.value, process.cwd());
    if ('problem' in target)
      throw new UserError(`${option.flag} ${option.value} ${target.problem}.`, [
        'Give a directory or sftp://[user@]host[:port]/path.',
      ]);
    return target;
  }
  if (lab.share) return lab.share.target;
  throw new UserError(`${command} needs a share: pass ${option.flag}, or add share.target to ${lab.file}.`, [
    'e.g. share: { target: "sftp://pi@192.168.87.2/srv/os_images", nfs: "192.168.87.2:/srv/os_images" }',
  ]);
}
