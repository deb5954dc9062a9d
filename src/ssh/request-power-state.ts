import { command } from '../exec/command.ts';
import { asRoot } from './as-root.ts';
import { connectSsh } from './connect-ssh.ts';
import type { SshEndpoint, SshSettings } from './ssh-endpoint.ts';

/**
 * Asks a host to power off or reboot (`systemctl`, as root). The connection may drop before the
 * command returns: that is success. A refusal (sudo, a failing systemctl) is an error.
 */
export async function requestPowerState(
  endpoint: SshEndpoint,
  settings: SshSettings,
  verb: 'poweroff' | 'reboot',
): Promise<void> {
  const session = await connectSsh(endpoint, { ...settings, connectTimeoutSeconds: 10 });
  try {
    const result = await session
      .exec(asRoot(endpoint.user, command('systemctl', [verb])), { timeoutSeconds: 20 })
      .catch(() => undefined);
    if (result && result.exitCode !== 0 && result.exitCode !== null)
      throw new Error(result.stderr.trim().split('\n')[0] || `systemctl ${verb} exited ${result.exitCode}`);
  } finally {
    await session.close();
  }
}
