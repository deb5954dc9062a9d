import path from 'node:path';
import { UserError } from '../errors.ts';
import type { Command } from '../exec/command.ts';
import { IMAGE_MARKER_PATH, renderMarker } from '../image/marker.ts';
import type { ExecOptions, ExecResult } from '../ssh/remote-exec.ts';
import { SUDO_PROBE } from '../ssh/root-shell.ts';
import type { SshEndpoint } from '../ssh/ssh-endpoint.ts';
import type { DeployTarget } from './deploy-target.ts';
import type { ImageLocation } from './image-location.ts';
import { JOB_DIR, PREFLIGHT_TOOLS, USB_BOOT_CONFIG } from './remote-commands.ts';

/**
 * A Pi as deploy sees it over SSH, answering each command the way the real one does (the formats
 * of lsblk, findmnt, sfdisk, the restore job's script). It is what a dry run answers with, so the
 * dry run walks the real step list, and what unit tests vary (an old bootloader, the wrong imager,
 * a cut connection, a restore already done). It never stands in for the namespace tests' real sshd.
 */
export interface SimulatedPiOptions {
  readonly target: DeployTarget;
  readonly image: ImageLocation;
  /** Small text files of the image as the share holds them: the manifest, `disk`, `*-pt.sf`, `*-pt.parted`. */
  readonly imageFiles: Readonly<Record<string, string>>;
  readonly startsAs: 'node' | 'imager';
  /** `vcgencmd bootloader_version`'s first line. */
  readonly bootloader?: string;
  /** What the SD imager answers as (default: the target's imager name). */
  readonly imagerHostname?: string;
  readonly shareMounted?: boolean;
  readonly job?: 'none' | { readonly running: string } | { readonly done: number; readonly version: string };
  /** The connection drops while the restore is followed, this many times (the restore goes on). */
  readonly cutsWhileFollowing?: number;
  /** sudo asks the login user for this password; without it, sudo needs none. */
  readonly sudoPassword?: string;
}

export type Identity = 'node' | 'imager' | 'rebooting';

const SUDO_WITHOUT_PASSWORD = /^sudo -n (?:env (?:\S+=\S+ )*)?/;
const SUDO_WITH_PASSWORD = /^sudo -k -S -p '' (?:env (?:\S+=\S+ )*)?/;
const PASSWORD_REQUIRED: ExecResult = { exitCode: 1, stdout: '', stderr: 'sudo: a password is required\n' };

export class SimulatedPi {
  identity: Identity;
  private oneShotSd = false;
  private usbBootDisabled = false;
  private shareMounted: boolean;
  private job: NonNullable<SimulatedPiOptions['job']>;
  private cutsLeft: number;
  private diskTable = 'label: dos\n';
  private restoredVersion: string | undefined;
  private nextBoot: 'node' | 'imager' = 'node';

  constructor(private readonly options: SimulatedPiOptions) {
    this.identity = options.startsAs;
    this.shareMounted = options.shareMounted ?? true;
    this.job = options.job ?? 'none';
    this.cutsLeft = options.cutsWhileFollowing ?? 0;
    const job = this.job;
    if (typeof job === 'object' && 'done' in job && job.done === 0) this.finishRestore(job.version);
  }

  /** Which endpoint reaches the machine as it runs now; the other one does not answer. */
  answersAt(endpoint: SshEndpoint): boolean {
    const { target } = this.options;
    if (this.identity === 'rebooting') this.identity = this.nextBoot;
    const now = this.identity === 'node' ? target.node : target.imager;
    return endpoint.host === now.host && endpoint.port === now.port;
  }

  answer(cmd: Command, given: ExecOptions = {}): ExecResult {
    const asRoot = this.sudo(render(cmd), given);
    if ('exitCode' in asRoot) return asRoot;
    const { text, options } = asRoot;
    const { target, image } = this.options;
    const ok = (stdout = ''): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
    const fails = (stderr: string): ExecResult => ({ exitCode: 1, stdout: '', stderr });
    if (text === 'hostname')
      return ok(
        `${this.identity === 'node' ? target.host : (this.options.imagerHostname ?? target.imagerName)}\n`,
      );
    if (text === 'vcgencmd bootloader_version')
      return ok(`${this.options.bootloader ?? '2025/01/22 15:31:47'}\nversion 0000000000000000 (release)\n`);
    if (text.startsWith('vcmailbox 0x0003808b'))
      return ((this.oneShotSd = true), ok('0x0000000c 0x80000000\n'));
    if (text.startsWith(`mv ${USB_BOOT_CONFIG} `)) return ((this.usbBootDisabled = true), ok());
    if (text === 'reboot') {
      this.nextBoot = this.oneShotSd || this.usbBootDisabled ? 'imager' : 'node';
      this.oneShotSd = false;
      this.identity = 'rebooting';
      return ok();
    }
    if (text.startsWith(`findmnt -n -o SOURCE `)) return ok(this.shareMounted ? `${target.nfs ?? ''}\n` : '');
    if (text.startsWith("sh -c 'mkdir -p") && text.includes('mount -t nfs'))
      return ((this.shareMounted = true), ok());
    if (text.startsWith('lsblk ')) return ok(this.lsblk());
    if (text.startsWith('findmnt -J ')) return ok(this.findmnt(text.split(' ').at(-1) ?? ''));
    if (text.includes('command -v')) return ok(PREFLIGHT_TOOLS.map((tool) => `${tool}\n`).join(''));
    if (text.startsWith('sha256sum -c')) return ok();
    if (text.includes(`${JOB_DIR}/restore-`)) return this.restoreJob(text, options);
    if (text.startsWith('sfdisk -d ')) return ok(this.diskTable);
    if (/^(env MTOOLS_SKIP_CHECK=1 )?mtype -i /.test(text))
      return this.fatFile(text.split('::/').at(-1) ?? '');
    if (text.startsWith('cat -- ')) {
      const file = text.slice('cat -- '.length).replace(/^'|'$/g, '');
      if (file === path.posix.join('/boot/firmware', IMAGE_MARKER_PATH) && this.identity === 'node')
        return this.restoredVersion ? ok(this.marker(this.restoredVersion)) : fails('No such file');
      const name = path.posix.relative(image.dir, file);
      const content = this.options.imageFiles[name];
      return content === undefined ? fails(`cat: ${file}: No such file or directory`) : ok(content);
    }
    return fails(`simulated Pi: no answer for ${text}`);
  }

  /** sudo as this Pi's sudoers has it: the command it runs, and its input; or sudo's refusal. */
  private sudo(text: string, options: ExecOptions): { text: string; options: ExecOptions } | ExecResult {
    const wanted = this.options.sudoPassword;
    if (text === render(SUDO_PROBE))
      return wanted === undefined ? { exitCode: 0, stdout: '', stderr: '' } : PASSWORD_REQUIRED;
    if (SUDO_WITHOUT_PASSWORD.test(text))
      return wanted === undefined
        ? { text: text.replace(SUDO_WITHOUT_PASSWORD, ''), options }
        : PASSWORD_REQUIRED;
    if (!SUDO_WITH_PASSWORD.test(text)) return { text, options };
    const input = Buffer.from(options.stdin ?? '').toString('utf8');
    const newline = input.indexOf('\n');
    if (wanted === undefined || newline < 0 || input.slice(0, newline) !== wanted)
      return { exitCode: 1, stdout: '', stderr: 'Sorry, try again.\nsudo: 1 incorrect password attempt\n' };
    return {
      text: text.replace(SUDO_WITH_PASSWORD, ''),
      options: { ...options, stdin: input.slice(newline + 1) },
    };
  }

  private restoreJob(text: string, options: ExecOptions): ExecResult {
    const ok = (stdout: string): ExecResult => ({ exitCode: 0, stdout, stderr: '' });
    const job = this.job;
    if (text.includes('echo started')) {
      if (typeof job === 'object' && 'running' in job) return ok('running\n');
      this.job = { running: /echo '?([\w.-]+)'? > "\$job\.version"/.exec(text)?.[1] ?? '?' };
      return ok('started\n');
    }
    if (text.includes('tail -n +1 -f')) {
      if (!(typeof job === 'object' && 'running' in job))
        return { exitCode: 3, stdout: '', stderr: 'no restore job\n' };
      if (this.cutsLeft > 0) {
        this.cutsLeft--;
        options.onStdout?.('Completed:  41.00%\n');
        throw new UserError(`the connection to ${this.options.target.imagerName} was lost (simulated)`);
      }
      const log = 'Partclone successfully restored\nCompleted: 100.00%\n';
      options.onStdout?.(log);
      this.finishRestore(job.running);
      return ok(`${log}pi-lab-status 0\n`);
    }
    if (typeof job === 'object' && 'running' in job) return ok(`running ${job.running}\n`);
    if (typeof job === 'object') return ok(`done ${job.done} ${job.version}\n`);
    return ok('none\n');
  }

  private finishRestore(version: string): void {
    this.job = { done: 0, version };
    this.restoredVersion = version;
    // The restore wrote a new boot partition, config.txt included.
    this.usbBootDisabled = false;
    const device = (this.options.imageFiles['disk'] ?? 'sda').trim();
    this.diskTable = this.options.imageFiles[`${device}-pt.sf`] ?? '';
  }

  private fatFile(file: string): ExecResult {
    const version = this.restoredVersion;
    if (version === undefined) return { exitCode: 1, stdout: '', stderr: `File "::/${file}" not found\n` };
    if (`/${file}` === IMAGE_MARKER_PATH) return { exitCode: 0, stdout: this.marker(version), stderr: '' };
    if (file === 'firstrun.sh')
      return {
        exitCode: 0,
        stdout: `#!/bin/bash\nhostnamectl set-hostname ${this.options.target.host}\n`,
        stderr: '',
      };
    return { exitCode: 1, stdout: '', stderr: `File "::/${file}" not found\n` };
  }

  private marker(version: string): string {
    return renderMarker({ host: this.options.target.host, version, inputKey: '' });
  }

  private lsblk(): string {
    const { target } = this.options;
    const sd = target.sdDisk;
    const part = (n: number) => (/\d$/.test(sd) ? `${sd}p${n}` : `${sd}${n}`);
    return JSON.stringify({
      blockdevices: [
        {
          name: sd,
          type: 'disk',
          size: 32e9,
          children: [
            { name: part(1), pkname: sd, type: 'part', size: 512e6, mountpoint: '/boot/firmware' },
            { name: part(2), pkname: sd, type: 'part', size: 31e9, mountpoint: '/' },
          ],
        },
        { name: target.disk, type: 'disk', size: 1e12, mountpoint: null },
      ],
    });
  }

  private findmnt(file: string): string {
    const { target } = this.options;
    const sd = target.sdDisk;
    const part = (n: number) => `/dev/${/\d$/.test(sd) ? `${sd}p${n}` : `${sd}${n}`}`;
    const fs =
      file === '/boot/firmware'
        ? { source: part(1), target: '/boot/firmware', fstype: 'vfat' }
        : file === '/'
          ? { source: part(2), target: '/', fstype: 'ext4' }
          : {
              source: target.nfs ?? part(2),
              target: target.nfs ? file : '/',
              fstype: target.nfs ? 'nfs4' : 'ext4',
            };
    return JSON.stringify({ filesystems: [fs] });
  }
}

function render(cmd: Command): string {
  return [cmd.program, ...cmd.args]
    .map((word) => (/^[\w./:=@%+,-]+$/.test(word) ? word : `'${word}'`))
    .join(' ');
}
