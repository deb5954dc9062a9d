import { command } from '../exec/command.ts';
import type { LabHost } from '../lab/lab-types.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import type { StatusOptions } from './gather-status.ts';

/** dnsmasq's lease file on Debian: `<expiry> <mac> <ip> <name> <client id>` per line. */
const LEASES_FILE = '/var/lib/misc/dnsmasq.leases';

/** Machines on the lab network that the lab file does not know: their leases, from the router. */
export async function readUnknownLeases(
  options: StatusOptions,
  router: LabHost,
): Promise<{ mac: string; ip: string; name: string }[]> {
  const { node } = hostEndpoints(options.lab, router);
  const session = await connectSsh(node, {
    ...sshSettings(options.lab.ssh),
    connectTimeoutSeconds: options.timeoutSeconds,
  });
  try {
    const result = await session.exec(command('cat', ['--', LEASES_FILE]), {
      timeoutSeconds: options.timeoutSeconds,
    });
    if (result.exitCode !== 0) return [];
    const known = new Set(options.lab.hosts.flatMap((host) => (host.mac ? [host.mac.toLowerCase()] : [])));
    return result.stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.length >= 4 && !known.has((fields[1] ?? '').toLowerCase()))
      .map(([, mac = '', ip = '', name = '']) => ({
        mac: mac.toLowerCase(),
        ip,
        name: name === '*' ? '' : name,
      }));
  } finally {
    await session.close();
  }
}
