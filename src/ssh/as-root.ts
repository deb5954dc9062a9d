import { type Command, command } from '../exec/command.ts';

/**
 * pi-lab logs in as the lab's user: everything that needs root goes through `sudo -n` (never a prompt).
 * sudo resets the environment and may refuse `VAR=value` words of its own; `env` sets them as root.
 */
export function asRoot(user: string, cmd: Command): Command {
  if (user === 'root') return cmd;
  const env = Object.entries(cmd.env ?? {}).map(([key, value]) => `${key}=${value}`);
  const program = env.length > 0 ? ['env', ...env, cmd.program] : [cmd.program];
  return command('sudo', ['-n', ...program, ...cmd.args], cmd.cwd === undefined ? {} : { cwd: cmd.cwd });
}
