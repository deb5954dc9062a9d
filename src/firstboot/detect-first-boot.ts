import { UserError } from '../errors.ts';

export type FirstBootFormat = 'firstrun' | 'cloud-init';

export interface BootFacts {
  readonly cmdline: string;
  /** Names of the files at the top of the boot partition. */
  readonly rootFiles: readonly string[];
}

const FIRSTRUN_HOOK = /(?:^|\s)systemd\.run=\/boot(?:\/firmware)?\/firstrun\.sh(?:\s|$)/;
const NOCLOUD_HOOK = /(?:^|\s)ds=nocloud(?:;|\s|$)/;

function hasFile(facts: BootFacts, name: string): boolean {
  return facts.rootFiles.some((file) => file.toLowerCase() === name);
}

/** Which of Raspberry Pi Imager's first-boot formats the clean image carries. */
export function detectFirstBootFormat(facts: BootFacts, imageLabel: string): FirstBootFormat {
  const firstrun = hasFile(facts, 'firstrun.sh');
  const cloudInit = hasFile(facts, 'user-data');
  if (firstrun && FIRSTRUN_HOOK.test(facts.cmdline)) return 'firstrun';
  if (cloudInit && NOCLOUD_HOOK.test(facts.cmdline)) return 'cloud-init';
  const found =
    [firstrun && 'firstrun.sh', cloudInit && 'user-data'].filter(Boolean).join(' and ') ||
    'no first-boot files';
  throw new UserError(
    `${imageLabel} has no first-boot customisation to give each host its name (found ${found}).`,
    [
      'A clean image must be customised by Raspberry Pi Imager (hostname "changeme") and never booted:',
      'Imager writes firstrun.sh plus `systemd.run=/boot/firstrun.sh` in cmdline.txt (Bookworm),',
      'or user-data/meta-data plus `ds=nocloud` in cmdline.txt (cloud-init, Trixie).',
      'Write the OS with Imager again (set the hostname to changeme in its OS customisation), then save it with ocs-sr before its first boot.',
    ],
  );
}
