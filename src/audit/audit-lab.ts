import { describeError } from '../errors.ts';
import { command } from '../exec/command.ts';
import type { Lab, LabHost } from '../lab/lab-types.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { hostEndpoints, sshSettings } from '../ssh/lab-ssh.ts';
import { describeEndpoint, type SshEndpoint } from '../ssh/ssh-endpoint.ts';
import { mapBounded } from '../values/map-bounded.ts';
import { AUDIT_SCRIPT, type AuditFinding, auditFindings, parseAuditOutput } from './audit-checks.ts';

export interface HostAudit {
  readonly host: string;
  /** The system audited: the host itself or its SD imager. */
  readonly system: string;
  readonly address: string;
  /** Undefined when it could not be reached (`why` says so). */
  readonly findings?: readonly AuditFinding[];
  readonly why?: string;
  readonly ok: boolean;
}

/** Every host's own system and its imager, whichever answers now; imagers matter as much. */
export async function auditLab(
  lab: Lab,
  hosts: readonly LabHost[],
  timeoutSeconds: number,
): Promise<HostAudit[]> {
  const audits = await mapBounded(hosts, 8, (host) => auditHost(lab, host, timeoutSeconds));
  return audits.flat();
}

async function auditHost(lab: Lab, host: LabHost, timeoutSeconds: number): Promise<HostAudit[]> {
  const { node, imager, imagerName } = hostEndpoints(lab, host);
  const systems: [string, SshEndpoint][] =
    host.recipe === undefined
      ? [[host.name, node]]
      : [
          [host.name, node],
          [imagerName, imager],
        ];
  const audits: HostAudit[] = [];
  const failures: string[] = [];
  for (const [system, endpoint] of systems) {
    try {
      const baked = host.recipe !== undefined && system === host.name;
      audits.push(await auditSystem(lab, host.name, { system, endpoint, baked }, timeoutSeconds));
      // The same machine answers one way at a time: one of the two is enough.
      break;
    } catch (error) {
      failures.push(
        `${system} at ${describeEndpoint(endpoint)}: ${describeError(error).split('\n')[0] ?? ''}`,
      );
    }
  }
  if (audits.length > 0) return audits;
  return [
    {
      host: host.name,
      system: host.name,
      address: describeEndpoint(node),
      why: failures.join('; '),
      ok: false,
    },
  ];
}

async function auditSystem(
  lab: Lab,
  host: string,
  { system, endpoint, baked }: { system: string; endpoint: SshEndpoint; baked: boolean },
  timeoutSeconds: number,
): Promise<HostAudit> {
  const session = await connectSsh(endpoint, {
    ...sshSettings(lab.ssh),
    connectTimeoutSeconds: timeoutSeconds,
  });
  try {
    const answer = (await session.run(command('hostname', []), { timeoutSeconds })).stdout.trim();
    if (answer !== system) throw new Error(`it answers as ${answer}`);
    const result = await session.exec(command('sh', ['-c', AUDIT_SCRIPT]), {
      timeoutSeconds: timeoutSeconds * 6,
    });
    const findings = auditFindings(
      parseAuditOutput(endpoint.user, result.stdout),
      baked ? 'baked' : 'unbaked',
    );
    return {
      host,
      system,
      address: describeEndpoint(endpoint),
      findings,
      ok: findings.every((finding) => finding.ok),
    };
  } finally {
    await session.close();
  }
}
