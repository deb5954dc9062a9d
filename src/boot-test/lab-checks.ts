import { command } from '../exec/command.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import type { CheckResult } from './guest-checks.ts';

/** What the router must show, from the lab file and from what the bake wrote into its root. */
export interface RouterExpectation {
  readonly lan: string;
  readonly address: string;
  readonly prefix: number;
  readonly uplink: string;
  /** sha256 of each file the bake wrote, by absolute path in the root filesystem. */
  readonly written: ReadonlyMap<string, string>;
}

export interface NodeOnLabExpectation {
  readonly host: string;
  readonly reservedIp: string | undefined;
  readonly router: string;
  /** What the router's dnsmasq leased to the node's MAC. */
  readonly leasedIp: string;
}

export const DNSMASQ_CONF = '/etc/dnsmasq.d/lab.conf';
export const IPTABLES_RULES = '/etc/iptables/rules.v4';
export const DNSMASQ_LEASES = '/var/lib/misc/dnsmasq.leases';
const INSTALLED_MARKER = '/var/lib/lab-router/installed';

const sh = (script: string) => command('sh', ['-c', script]);

async function output(session: SshSession, script: string): Promise<string> {
  const result = await session.exec(sh(script), { timeoutSeconds: 60 });
  return `${result.stdout}${result.stderr}`.trim();
}

const check = (name: string, ok: boolean, detail: string): CheckResult => ({ name, ok, detail });

async function sha256(session: SshSession, file: string): Promise<string> {
  return (await output(session, `sha256sum ${file} 2>&1 | cut -d" " -f1`)).split('\n')[0] ?? '';
}

/** The router's checks, over SSH as the lab user (no root: what needs root is read from its effects). */
export async function checkRouter(session: SshSession, expect: RouterExpectation): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const address = `${expect.address}/${expect.prefix}`;
  const lanAddresses = await output(session, `ip -4 -o addr show dev ${expect.lan} | awk '{print $4}'`);
  results.push(
    check(
      `${expect.lan} has the router address ${address}`,
      lanAddresses.split('\n').includes(address),
      `${expect.lan}: ${lanAddresses || 'no IPv4 address'}`,
    ),
  );

  const installed = await output(
    session,
    `test -e ${INSTALLED_MARKER} && echo marker; systemctl is-enabled lab-router-setup.service 2>&1; dpkg-query -W -f='\${Package}:\${Status}\\n' dnsmasq iptables-persistent 2>&1`,
  );
  const lines = installed.split('\n');
  const packagesIn = lines.filter((line) => line.endsWith('install ok installed')).length;
  results.push(
    check(
      'the first-boot installer installed dnsmasq and iptables-persistent, then disabled itself',
      lines.includes('marker') && lines.includes('disabled') && packagesIn === 2,
      lines.join('; '),
    ),
  );

  const dnsmasqState = await output(session, 'systemctl is-active dnsmasq.service');
  const confSeen = await sha256(session, DNSMASQ_CONF);
  const confBaked = expect.written.get(DNSMASQ_CONF);
  results.push(
    check(
      'dnsmasq runs with the rendered configuration',
      dnsmasqState === 'active' && confBaked !== undefined && confSeen === confBaked,
      `dnsmasq.service ${dnsmasqState}; ${DNSMASQ_CONF} ${confSeen === confBaked ? 'is as baked' : `differs from the bake (${confSeen.slice(0, 12)} vs ${confBaked?.slice(0, 12) ?? 'not baked'})`}`,
    ),
  );

  const forwarding = await output(session, 'cat /proc/sys/net/ipv4/ip_forward');
  results.push(check('IPv4 forwarding is on', forwarding === '1', `ip_forward=${forwarding}`));

  // Listing the live rules needs root; netfilter-persistent exits non-zero if iptables-restore refuses the file.
  const netfilter = await output(
    session,
    'echo "$(systemctl show netfilter-persistent.service -p ActiveState --value) $(systemctl show netfilter-persistent.service -p ExecMainStatus --value)"',
  );
  const rulesSeen = await sha256(session, IPTABLES_RULES);
  const rulesBaked = expect.written.get(IPTABLES_RULES);
  const masquerade = await output(
    session,
    `grep -c -- '-A POSTROUTING -o ${expect.uplink} -j MASQUERADE' ${IPTABLES_RULES}`,
  );
  results.push(
    check(
      `netfilter-persistent loaded ${IPTABLES_RULES} with MASQUERADE out of ${expect.uplink}`,
      netfilter === 'active 0' && rulesBaked !== undefined && rulesSeen === rulesBaked && masquerade === '1',
      `netfilter-persistent ${netfilter.replace(' ', ', exit status ')}; rules.v4 ${rulesSeen === rulesBaked ? 'as baked' : 'differs from the bake'}; MASQUERADE lines: ${masquerade}`,
    ),
  );
  return results;
}

/** The lease dnsmasq gave a MAC, from the router's lease file (expiry mac ip name client-id). */
export function findLease(leases: string, mac: string): string | undefined {
  for (const line of leases.split('\n')) {
    const [, leaseMac, ip] = line.trim().split(/\s+/);
    if (leaseMac?.toLowerCase() === mac.toLowerCase()) return ip;
  }
  return undefined;
}

export async function readLeases(router: SshSession): Promise<string> {
  return output(router, `cat ${DNSMASQ_LEASES} 2>/dev/null || true`);
}

export async function checkNodeOnLab(node: SshSession, expect: NodeOnLabExpectation): Promise<CheckResult[]> {
  const reserved = expect.reservedIp;
  const addresses = await output(node, "ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1");
  const route = await output(node, 'ip -4 route show default');
  const ping = await output(
    node,
    `ping -c 1 -W 5 ${expect.router} >/dev/null 2>&1 && echo answered || echo silent`,
  );
  return [
    check(
      reserved
        ? `gets its reserved address ${reserved} from the router`
        : 'gets a reserved address from the router',
      reserved !== undefined && expect.leasedIp === reserved && addresses.split('\n').includes(reserved),
      reserved
        ? `leased ${expect.leasedIp}; eth0 has ${addresses || 'no address'}`
        : `${expect.host} has no MAC and IP in the lab file, so the router has no reservation for it (leased ${expect.leasedIp})`,
    ),
    check(
      `reaches the router ${expect.router}, its default gateway`,
      ping === 'answered' && route.includes(`via ${expect.router} `),
      `ping ${ping}; ${route || 'no default route'}`,
    ),
  ];
}
