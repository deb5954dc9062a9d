import { UserError } from '../errors.ts';
import { command } from '../exec/command.ts';
import { connectSsh } from './connect-ssh.ts';
import { rootShell } from './root-shell.ts';
import type { SshEndpoint, SshSettings } from './ssh-endpoint.ts';
import type { SudoPassword } from './sudo-password.ts';

/**
 * Asks a host to power off or reboot (`systemctl`, as root). The connection may drop before the
 * command returns: that is success. A refusal (sudo, a failing systemctl) is an error.
 */
export async function requestPowerState(
  endpoint: SshEndpoint,
  settings: SshSettings,
  sudo: SudoPassword,
  verb: 'poweroff' | 'reboot',
): Promise<void> {
  const session = await connectSsh(endpoint, { ...settings, connectTimeoutSeconds: 10 });
  try {
    const root = rootShell(session, sudo);
    const result = await root
      .exec(command('systemctl', [verb]), { timeoutSeconds: 20 })
      .catch((error: unknown) => {
        // The connection drops as the host goes down; sudo refusing (or no password) is an answer.
        if (error instanceof UserError) throw error;
        return undefined;
      });
    if (result && result.exitCode !== 0 && result.exitCode !== null)
      throw new Error(result.stderr.trim().split('\n')[0] || `systemctl ${verb} exited ${result.exitCode}`);
  } finally {
    await session.close();
  }
}
