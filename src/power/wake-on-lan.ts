import { UserError } from '../errors.ts';
import { command, type Command } from '../exec/command.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import { labRouter } from '../lab/router-host.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import { describeEndpoint } from '../ssh/ssh-endpoint.ts';
import type { SshSession } from '../ssh/ssh-session.ts';

export interface WakeOutcome {
  readonly host: string;
  readonly mac: string;
  /** The router that sent the packet, or was to. */
  readonly via?: string;
  readonly result: string;
  readonly ok: boolean;
}

/** UDP port 9 (discard): what wakeonlan and etherwake use; NICs look at the payload, not the port. */
const WAKE_PORT = 9;
/** Sent a few times: a broadcast datagram is not acknowledged, and one can be lost. */
const PACKETS = 3;

/*
 * Perl because perl-base is essential on Debian and Raspberry Pi OS, so every router has it; no
 * wakeonlan or etherwake package is needed and no root either. Bound to the router's lab address,
 * the limited broadcast leaves by the lab interface whatever the routes say.
 */
const SEND_MAGIC_PACKET = `
use strict; use Socket;
my ($mac, $from, $port, $count) = @ARGV;
socket(my $s, PF_INET, SOCK_DGRAM, 17) or die "socket: $!\\n";
setsockopt($s, SOL_SOCKET, SO_BROADCAST, 1) or die "SO_BROADCAST: $!\\n";
bind($s, sockaddr_in(0, inet_aton($from))) or die "this machine has no address $from ($!): is its lab interface up?\\n";
my $packet = ("\\xff" x 6) . (pack("H12", $mac) x 16);
for (1 .. $count) { send($s, $packet, 0, sockaddr_in($port, INADDR_BROADCAST)) or die "send: $!\\n"; }
`;

/** The command the router runs: the magic packet for `mac`, broadcast from its address `from`. */
export function magicPacketCommand(mac: string, from: string): Command {
  const hex = mac.replaceAll(':', '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) throw new Error(`not a MAC address: ${mac}`);
  return command('perl', ['-e', SEND_MAGIC_PACKET, hex, from, String(WAKE_PORT), String(PACKETS)]);
}

/**
 * Wakes hosts marked `wake_on_lan` with a magic packet sent by the router onto the lab network, as
 * its login user. The router must be up: a sleeping host's network card only hears its own network.
 */
export async function wakeHosts(
  lab: Lab,
  hosts: readonly LabHost[],
  timeoutSeconds: number,
): Promise<WakeOutcome[]> {
  if (hosts.length === 0) return [];
  const router = labRouter(lab.hosts);
  if (!router)
    return hosts.map((host) => ({
      host: host.name,
      mac: host.mac ?? '',
      result: `not woken: the lab has no router (a host with recipe "router") to send the magic packet from`,
      ok: false,
    }));
  const reached = await connectRouter(lab, router, timeoutSeconds);
  if ('refusal' in reached)
    return hosts.map((host) => ({
      host: host.name,
      mac: host.mac ?? '',
      via: router.name,
      result: `not woken: ${reached.refusal}. Power it on first (npm run power -- on ${router.name}), then run npm run power -- on ${host.name}.`,
      ok: false,
    }));
  const { session } = reached;
  try {
    const outcomes: WakeOutcome[] = [];
    for (const host of hosts) {
      const mac = host.mac ?? '';
      const result = await session.exec(magicPacketCommand(mac, lab.network.router), { timeoutSeconds });
      const ok = result.exitCode === 0;
      outcomes.push({
        host: host.name,
        mac,
        via: router.name,
        ok,
        result: ok
          ? `magic packet sent from ${router.name}; it should answer within a minute or two (npm run status -- ${host.name})`
          : `not woken: ${router.name} could not send the magic packet: ${lastLine(result.stderr) || `exit ${String(result.exitCode)}`}`,
      });
    }
    return outcomes;
  } finally {
    await session.close();
  }
}

/** The router's own system, or its SD imager: both sit on the lab network. */
async function connectRouter(
  lab: Lab,
  router: LabHost,
  timeoutSeconds: number,
): Promise<{ session: SshSession } | { refusal: string }> {
  const { node, imager } = hostEndpoints(lab, router);
  const settings = { ...sshSettings(lab.ssh), connectTimeoutSeconds: timeoutSeconds };
  const failures: string[] = [];
  for (const endpoint of [node, imager]) {
    try {
      return { session: await connectSsh(endpoint, settings) };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      failures.push(`${describeEndpoint(endpoint)}: ${error.message}`);
    }
  }
  return { refusal: `the router ${router.name} does not answer (${failures.join('; ')})` };
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}
