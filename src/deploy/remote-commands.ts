import { type Command, command, shellQuote } from '../exec/command.ts';

/*
 * Every command deploy runs on a Pi, as data. Values are checked by the lab schema (host, disk and
 * version names) and quoted again here; the few shell scripts are constants with quoted values.
 */

export const readHostname = (): Command => command('hostname', []);

export const readBootloaderVersion = (): Command => command('vcgencmd', ['bootloader_version']);

/** Boot order for the next boot only, read right to left: 1 SD, 4 USB, f restart. */
export const setOneShotSdBoot = (): Command => command('vcmailbox', ['0x0003808b', '4', '4', '0xf41']);

export const reboot = (): Command => command('reboot', []);

export const USB_BOOT_CONFIG = '/boot/firmware/config.txt';
export const USB_BOOT_CONFIG_DISABLED = '/boot/firmware/config.txt.pi-lab-off';

/** A Pi 5 boots no FAT partition without config.txt: renamed (not erased), the USB disk is skipped. */
export const disableUsbBoot = (): Command => command('mv', [USB_BOOT_CONFIG, USB_BOOT_CONFIG_DISABLED]);

export const listBlockDevices = (): Command =>
  command('lsblk', ['-J', '-b', '-o', 'NAME,PKNAME,TYPE,SIZE,MOUNTPOINT']);

export const findMount = (file: string): Command =>
  command('findmnt', ['-J', '-n', '-o', 'SOURCE,TARGET,FSTYPE', '-T', file]);

/** What is mounted at `dir` itself (not the file system holding it): empty when nothing is. */
export const findMountSource = (dir: string): Command => command('findmnt', ['-n', '-o', 'SOURCE', dir]);

export const PREFLIGHT_TOOLS = [
  'ocs-sr',
  'partclone.vfat',
  'partclone.ext4',
  'sfdisk',
  'sha256sum',
  'mtype',
] as const;

/** Prints the name of each tool that is installed. */
export const findTools = (): Command =>
  command('sh', [
    '-c',
    `for t in ${PREFLIGHT_TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 && echo "$t"; done; true`,
  ]);

export const readFileCommand = (file: string): Command => command('cat', ['--', file]);

/** Reads `<file>: OK|FAILED` lines for a checksum list on stdin (`<sha256>  <path>`). */
export const checkSums = (): Command => command('sha256sum', ['-c', '--quiet', '-']);

export const mountShare = (nfs: string, imageRoot: string): Command =>
  command('sh', [
    '-c',
    `mkdir -p ${shellQuote(imageRoot)} && mount -t nfs ${shellQuote(nfs)} ${shellQuote(imageRoot)}`,
  ]);

export const dumpPartitionTable = (disk: string): Command => command('sfdisk', ['-d', `/dev/${disk}`]);

export const readFatFile = (partition: string, file: string): Command =>
  command('env', ['MTOOLS_SKIP_CHECK=1', 'mtype', '-i', `/dev/${partition}`, `::/${file}`]);

/*
 * On tmpfs: a job survives a dropped SSH connection (the next deploy follows it) but not a reboot of
 * the imager, after which the disk must be restored again whatever an earlier boot finished.
 */
export const JOB_DIR = '/run/pi-lab';

function jobPath(host: string): string {
  return `${JOB_DIR}/restore-${host}`;
}

/** The unattended restore: table from the image, no prompt (-batch, no -c), nothing after (-p true). */
export function ocsRestoreArgs(imageRoot: string, imageName: string, disk: string): string[] {
  return [
    '-or',
    imageRoot,
    '-k0',
    '-r',
    '-j2',
    '-p',
    'true',
    '-batch',
    '-nogui',
    'restoredisk',
    imageName,
    disk,
  ];
}

/**
 * Starts ocs-sr detached from the SSH session (setsid, output to a log), so a dropped connection
 * does not kill a half-done restore: the next deploy follows it again. Prints `started` or `running`.
 */
export function startRestoreJob(host: string, version: string, ocsArgs: readonly string[]): Command {
  const job = shellQuote(jobPath(host));
  const ocs = ['ocs-sr', ...ocsArgs].map(shellQuote).join(' ');
  const script = [
    `job=${job}`,
    `mkdir -p ${shellQuote(JOB_DIR)}`,
    'if [ -s "$job.pid" ] && kill -0 "$(cat "$job.pid")" 2>/dev/null; then echo running; exit 0; fi',
    'rm -f "$job.status" "$job.log" "$job.pid"',
    `echo ${shellQuote(version)} > "$job.version"`,
    `setsid sh -c 'echo $$ > "$1.pid"; shift; "$@" > "$0" 2>&1; echo $? > "\${0%.log}.status"' "$job.log" "$job" ${ocs} < /dev/null > /dev/null 2>&1 &`,
    // Wait until the job has written its pid, so that a follower finds it.
    'for i in $(seq 50); do [ -s "$job.pid" ] && break; sleep 0.1; done',
    'echo started',
  ].join('\n');
  return command('sh', ['-c', script]);
}

/** Streams the job's log from the start until it ends, then prints `pi-lab-status <exit code>`. */
export function followRestoreJob(host: string): Command {
  const script = [
    `job=${shellQuote(jobPath(host))}`,
    '[ -s "$job.pid" ] || { echo "no restore job" >&2; exit 3; }',
    'tail -n +1 -f --pid="$(cat "$job.pid")" "$job.log"',
    'echo "pi-lab-status $(cat "$job.status" 2>/dev/null || echo missing)"',
  ].join('\n');
  return command('sh', ['-c', script]);
}

/** `running <version>`, `done <exit code> <version>` or `none`. */
export function restoreJobState(host: string): Command {
  const script = [
    `job=${shellQuote(jobPath(host))}`,
    'version=$(cat "$job.version" 2>/dev/null)',
    'if [ -s "$job.pid" ] && kill -0 "$(cat "$job.pid")" 2>/dev/null; then echo "running $version"',
    'elif [ -e "$job.status" ]; then echo "done $(cat "$job.status") $version"',
    'else echo none; fi',
  ].join('\n');
  return command('sh', ['-c', script]);
}

export const readRestoreLogPath = (host: string): string => `${jobPath(host)}.log`;
