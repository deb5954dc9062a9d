import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { shellQuote } from '../../src/exec/command.ts';
import { runTool } from './spawn-tool.ts';

/*
 * A lab login user that is not root, the way the audit leaves a host: `pi` with a password, allowed
 * to use sudo (with the password, or without one: the NOPASSWD the audit flags, or not at all). The
 * machine's own /etc is never changed: the user lives in copies of passwd, group, shadow and a
 * sudoers file of its own, bound over /etc in the mount namespace of a test's sshd. The real sudo
 * and PAM then check the password.
 */

export interface LoginUser {
  readonly name: string;
  readonly password: string;
  readonly sudo: 'password' | 'nopasswd' | 'none';
}

/** Far above the machine's own users and below nobody (65534). */
const FIRST_UID = 60_000;

/** Writes the files under `dir`; returns the shell lines that bind them over /etc (as root). */
export async function loginUserBinds(dir: string, user: LoginUser): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const passwd = await readFile('/etc/passwd', 'utf8');
  const used = new Set(passwd.split('\n').map((line) => Number(line.split(':')[2])));
  let uid = FIRST_UID;
  while (used.has(uid)) uid++;
  // The fixture's own password on openssl's command line: the test checks pi-lab's, not this.
  const hash = (await runTool('openssl', ['passwd', '-6', user.password])).toString().trim();
  const files: Record<string, { text: string; mode: number }> = {
    passwd: {
      text: `${passwd.trimEnd()}\n${user.name}:x:${uid}:${uid}::/tmp:/bin/sh\n`,
      mode: 0o644,
    },
    group: {
      text: `${(await readFile('/etc/group', 'utf8')).trimEnd()}\n${user.name}:x:${uid}:\n`,
      mode: 0o644,
    },
    shadow: {
      text: `${(await readFile('/etc/shadow', 'utf8')).trimEnd()}\n${user.name}:${hash}:20000:0:99999:7:::\n`,
      mode: 0o640,
    },
    sudoers: { text: sudoers(user), mode: 0o440 },
  };
  const lines: string[] = [];
  for (const [name, file] of Object.entries(files)) {
    const copy = path.join(dir, name);
    await writeFile(copy, file.text);
    await chmod(copy, file.mode);
    lines.push(`mount --bind ${shellQuote(copy)} /etc/${name}`);
  }
  return lines;
}

function sudoers(user: LoginUser): string {
  const rule =
    user.sudo === 'none'
      ? []
      : [`${user.name} ALL=(ALL:ALL) ${user.sudo === 'nopasswd' ? 'NOPASSWD: ' : ''}ALL`];
  return [
    'Defaults env_reset',
    'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    'Defaults lecture=never',
    'root ALL=(ALL:ALL) ALL',
    ...rule,
    '',
  ].join('\n');
}
