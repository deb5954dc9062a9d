import { type HostAudit, auditLab } from '../audit/audit-lab.ts';
import { formatTable } from '../format-units.ts';
import { selectLabHosts } from '../lab/select-hosts.ts';
import { defineCommand } from './define-command.ts';
import { secondsOption } from './seconds-option.ts';

export const AUDIT_USAGE = `Usage: npm run audit -- [HOST...|--all] [--lab FILE] [--timeout S] [--json]

The lab's security checklist on every host (default: all), its own system or its SD imager,
whichever runs: SSH by key only and no root login (sshd -T), no password-less sudo (sudo -l), a
password set on the login user, and the TCP ports that listen. One table, each failed check with
its fix; exits 1 when a host fails or cannot be reached. Changes nothing.
  --timeout S    seconds per attempt at reaching a host (default 5)
  --json         print a machine-readable result on stdout`;

export const auditCommand = defineCommand({
  name: 'audit',
  usage: AUDIT_USAGE,
  options: {
    all: { type: 'boolean' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: 'audit changes nothing.',
  checkArguments: ({ values }) => {
    secondsOption(values.timeout, '--timeout', { fallback: 5, max: 600 });
  },
  run: async ({ values, positionals, lab, name, interruptibly }) => {
    const hosts = selectLabHosts(lab, positionals, name);
    const audits = await interruptibly(() =>
      auditLab(lab, hosts, secondsOption(values.timeout, '--timeout', { fallback: 5, max: 600 })),
    );
    return {
      ok: audits.every((audit) => audit.ok),
      json: { hosts: audits },
      printText: () => process.stdout.write(renderAudit(audits)),
    };
  },
});

function renderAudit(audits: readonly HostAudit[]): string {
  const rows = audits.flatMap((audit) =>
    audit.findings
      ? audit.findings.map((finding) => [
          audit.system,
          finding.ok ? 'ok' : 'FAIL',
          finding.check,
          finding.detail,
        ])
      : [[audit.system, 'FAIL', 'reachable', audit.why ?? '']],
  );
  const fixes = audits.flatMap((audit) =>
    (audit.findings ?? [])
      .filter((f) => !f.ok && f.fix)
      .map((f) => `${audit.system}: ${f.check}: ${f.fix ?? ''}`),
  );
  return `${formatTable(['system', 'result', 'check', 'detail'], rows)}\n${fixes.map((line) => `fix ${line}\n`).join('')}`;
}
