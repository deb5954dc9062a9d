import path from 'node:path';
import { runBootTest, type BootTestResult } from '../boot-test/run-boot-test.ts';
import { interruptedSignal } from '../exec/run-command.ts';
import { UserError } from '../errors.ts';
import { defineCommand } from './define-command.ts';

export const BOOT_TEST_USAGE = `Usage: npm run boot-test -- [HOST...] [--lab FILE] [--from DIR] [--disk HOST=FILE] [--logs DIR] [--json] [--keep]

Boots each host's baked image under QEMU (KVM when /dev/kvm is usable, software emulation otherwise)
and checks it over SSH: first boot done, hostname, /etc/hosts, key-only sshd, password refused,
no failed units, the image marker. The images are only read.
  --lab FILE    lab file (default recipes/lab.yaml)
  --from DIR    baked images (default images/)
  --disk HOST=FILE  boot a copy of this raw disk as HOST (a restored disk, a dd of one) instead of
                making it from the image; the file is only read
  --logs DIR    serial console logs, one per host and boot (default logs/boot-test)
  --json        print per-host checks and timings on stdout
  --keep        leave each VM running once checked, with the SSH command to enter it (Ctrl-C ends it)`;

export const bootTestCommand = defineCommand({
  name: 'boot-test',
  usage: BOOT_TEST_USAGE,
  options: {
    from: { type: 'string' },
    logs: { type: 'string' },
    disk: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    keep: { type: 'boolean' },
  },
  readsLab: true,
  leftAsItWas: 'the VMs are stopped and their disks removed; images/ is only ever read.',
  run: async ({ values, positionals, lab, projectDir, interruptibly }) => {
    const result = await interruptibly(() =>
      runBootTest({
        lab,
        hosts: positionals,
        fromDir: path.resolve(values.from ?? path.join(projectDir, 'images')),
        logDir: path.resolve(values.logs ?? path.join(projectDir, 'logs/boot-test')),
        disks: parseDiskOptions(values.disk ?? []),
        onProgress: (line) => process.stderr.write(`${line}\n`),
        ...(values.keep ? { holdOpen: holdUntilInterrupted } : {}),
      }),
    );
    return {
      ok: result.ok,
      json: result,
      printText: () => process.stdout.write(renderBootTestReport(result)),
    };
  },
});

function parseDiskOptions(values: readonly string[]): Record<string, string> {
  const disks: Record<string, string> = {};
  for (const value of values) {
    const match = /^([a-z0-9-]+)=(.+)$/.exec(value);
    if (!match?.[1] || !match[2])
      throw new UserError(`--disk ${value}: give HOST=FILE, e.g. --disk pi1=/tmp/pi1-usb.img`, [
        BOOT_TEST_USAGE,
      ]);
    disks[match[1]] = path.resolve(match[2]);
  }
  return disks;
}

async function holdUntilInterrupted(sshCommands: readonly string[]): Promise<void> {
  process.stderr.write(
    `\nThe VMs are running. Enter them with:\n${sshCommands.map((line) => `  ${line}`).join('\n')}\nCtrl-C stops them.\n`,
  );
  await new Promise<void>((resolve) => interruptedSignal.addEventListener('abort', () => resolve()));
}

export function renderBootTestReport(result: BootTestResult): string {
  const lines: string[] = [];
  for (const host of result.hosts) {
    const boots = host.boots.map((boot) => `${boot.seconds.toFixed(0)} s`).join(' + ');
    lines.push(
      '',
      `${host.host} ${host.version ?? ''}: ${host.ok ? 'passed' : 'FAILED'} (disk ${host.seconds.disk.toFixed(0)} s, boots ${boots || '-'}, checks ${host.seconds.checks.toFixed(0)} s)`,
    );
    for (const check of host.checks)
      lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`);
    if (!host.ok) lines.push(`  serial logs: ${host.logs.join(', ') || 'none'}`);
  }
  const passed = result.hosts.filter((host) => host.ok).length;
  lines.push(
    '',
    `${passed} of ${result.hosts.length} hosts passed (${result.accel === 'kvm' ? 'KVM' : 'software emulation'})`,
    '',
  );
  return lines.join('\n');
}
