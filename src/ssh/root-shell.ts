import { UserError } from '../errors.ts';
import { type Command, command } from '../exec/command.ts';
import type { ExecOptions, ExecResult } from './remote-exec.ts';
import type { SshEndpoint } from './ssh-endpoint.ts';
import type { SudoPassword } from './sudo-password.ts';

/** What runs commands on a host as its login user: an SSH session, or a recording of one. */
export interface Shell {
  readonly endpoint: SshEndpoint;
  describe(): string;
  /** A non-zero exit is a result, not an error. */
  exec(cmd: Command, options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a non-zero exit rejects with a ToolError. */
  run(cmd: Command, options?: ExecOptions): Promise<ExecResult>;
}

/** The same host's commands, run as root. */
export type RootShell = Pick<Shell, 'exec' | 'run'>;

/** How a host makes its login user root: it is root, sudo without a password, or sudo with one. */
export type RootAccess =
  | { readonly kind: 'login' }
  | { readonly kind: 'sudo' }
  | { readonly kind: 'sudo-password'; readonly password: string };

const PROBE_SECONDS = 20;

/**
 * Runs commands as root on `shell`'s host. The first one finds out how: logged in as root, `sudo -n`
 * when sudo needs no password, else `sudo -S` fed the password on standard input (checked once on
 * this host before any command gets it). `-k` makes sudo ask every time, so the password line is
 * always sudo's to read and never reaches the command's own input.
 */
export function rootShell(shell: Shell, sudo: SudoPassword): RootShell {
  let learning: Promise<RootAccess> | undefined;
  const access = (): Promise<RootAccess> => {
    const current = (learning ??= learnRootAccess(shell, sudo));
    // A failure (a dropped connection, no password) is not kept: the next command asks again.
    current.catch(() => {
      if (learning === current) learning = undefined;
    });
    return current;
  };
  const asRoot = async (cmd: Command, options: ExecOptions = {}): Promise<[Command, ExecOptions]> => {
    const how = await access();
    if (how.kind !== 'sudo-password') return [sudoCommand(cmd, how), options];
    const stdin = Buffer.concat([Buffer.from(`${how.password}\n`), Buffer.from(options.stdin ?? '')]);
    return [sudoCommand(cmd, how), { ...options, stdin }];
  };
  return {
    exec: async (cmd, options) => shell.exec(...(await asRoot(cmd, options))),
    run: async (cmd, options) => shell.run(...(await asRoot(cmd, options))),
  };
}

/**
 * `cmd` as root. sudo resets the environment and may refuse `VAR=value` words of its own: `env` sets
 * them as root. The password (when sudo wants one) goes on standard input, never in these words.
 */
export function sudoCommand(cmd: Command, access: RootAccess): Command {
  if (access.kind === 'login') return cmd;
  const env = Object.entries(cmd.env ?? {}).map(([key, value]) => `${key}=${value}`);
  const program = env.length > 0 ? ['env', ...env, cmd.program] : [cmd.program];
  const flags = access.kind === 'sudo' ? ['-n'] : ['-k', '-S', '-p', ''];
  return command('sudo', [...flags, ...program, ...cmd.args], cmd.cwd === undefined ? {} : { cwd: cmd.cwd });
}

/** `sudo -k -n true` in the C locale: its message tells "needs a password" from "not allowed". */
export const SUDO_PROBE = command('env', ['LC_ALL=C', 'sudo', '-k', '-n', 'true']);

async function learnRootAccess(shell: Shell, sudo: SudoPassword): Promise<RootAccess> {
  const { user } = shell.endpoint;
  if (user === 'root') return { kind: 'login' };
  const where = shell.describe();
  const probe = await shell.exec(SUDO_PROBE, { timeoutSeconds: PROBE_SECONDS });
  if (probe.exitCode === 0) return { kind: 'sudo' };
  const said = sudoSaid(probe.stderr);
  if (probe.exitCode === 127 || /sudo: (?:command )?not found/i.test(said))
    throw new UserError(`${where}: sudo is not installed, and ${user} is not root.`, [
      'install sudo there (apt-get install sudo), or log in as root (ssh.user in the lab file)',
    ]);
  if (!/password is required/i.test(said)) throw notAllowed(where, user, said);
  const password = await sudo.get(where);
  const access: RootAccess = { kind: 'sudo-password', password };
  const check = await shell.exec(sudoCommand(command('true', []), access), {
    timeoutSeconds: PROBE_SECONDS,
    stdin: `${password}\n`,
  });
  if (check.exitCode === 0) return access;
  // sudo checks the password before the rules: a user it does not know is told only then.
  const refusal = sudoSaid(check.stderr);
  if (/not in the sudoers|not allowed|may not run/i.test(refusal)) throw notAllowed(where, user, refusal);
  throw new UserError(`${where}: sudo refused the password from ${sudo.source}.`, [
    `check it: ssh ${user}@… and run sudo -k true there; then give the right one (${sudo.source})`,
  ]);
}

function notAllowed(where: string, user: string, said: string): UserError {
  return new UserError(`${where}: sudo does not let ${user} become root (sudo said: ${said}).`, [
    `give ${user} the right to use sudo there (adduser ${user} sudo), or log in as root`,
  ]);
}

/**
 * sudo's answer: its last line that is not a warning. A login shell may print lines of its own
 * before it, and sudo warns first when the host's name does not resolve (a Pi renamed without
 * /etc/hosts following).
 */
function sudoSaid(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/unable to resolve host/.test(line));
  return lines.findLast((line) => /\bsudo\b/.test(line)) ?? lines.at(-1) ?? '(nothing)';
}
