import { formatTable } from '../format-units.ts';
import type { HostStatus, StatusReport } from '../status/host-status.ts';

/** One line per host: how it answers, what it runs, its health, and what drifted. */
export function renderStatus(report: StatusReport): string {
  const rows = report.hosts.map((status) => [
    status.host,
    reachText(status),
    versionText(status),
    status.uptimeSeconds === undefined ? '-' : formatUptime(status.uptimeSeconds),
    status.bootloader ? `${status.bootloader}${status.bootMode ? ` ${status.bootMode}` : ''}` : '-',
    powerText(status),
    driftText(status),
  ]);
  const lines = [
    formatTable(
      ['host', 'state', 'image (running / share / baked)', 'up', 'bootloader', 'power', 'drift'],
      rows,
    ),
  ];
  for (const status of report.hosts) {
    if (status.why) lines.push(`${status.host}: ${status.why}`);
    if (status.drift && 'changed' in status.drift)
      for (const finding of status.drift.changed)
        lines.push(`${status.host}: drift: ${finding.path}: ${finding.what}`);
  }
  for (const lease of report.unknownLeases ?? [])
    lines.push(
      `unknown machine on the lab network: ${lease.mac} has ${lease.ip}${lease.name ? ` (${lease.name})` : ''}`,
    );
  lines.push(`share: ${report.share}`);
  return `${lines.join('\n')}\n`;
}

function reachText(status: HostStatus): string {
  if (status.reach !== 'up') return status.reach === 'down' ? 'down' : 'no SSH';
  if (status.running === 'itself') return 'up';
  if (status.running === 'imager') return 'in its imager';
  return `up as ${status.hostname ?? '?'}`;
}

function versionText(status: HostStatus): string {
  const { running, share, baked } = status.version;
  const current = running !== undefined && running === share ? `${running} (current)` : (running ?? '-');
  return `${current} / ${share ?? '-'} / ${baked ?? '-'}`;
}

function powerText(status: HostStatus): string {
  const throttled = status.throttled;
  if (!throttled) return '-';
  if (throttled.now.length > 0) return `NOW: ${throttled.now.join(', ')}`;
  if (throttled.sinceBoot.length > 0) return `since boot: ${throttled.sinceBoot.join(', ')}`;
  return 'ok';
}

function driftText(status: HostStatus): string {
  const drift = status.drift;
  if (!drift) return '-';
  if ('unknown' in drift) return `unknown: ${drift.unknown}`;
  const unread = drift.unverified.length > 0 ? `; ${drift.unverified.length} root-only not read` : '';
  if (drift.changed.length === 0) return `none (${drift.checked} files${unread})`;
  return `${drift.changed.length} of ${drift.checked} files changed${unread}`;
}

export function formatUptime(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return days > 0 ? `${days}d ${hours}h` : hours > 0 ? `${hours}h ${minutes}m` : `${minutes}m`;
}

/**
 * One refresh of --watch: on a terminal the table is redrawn in place; into a pipe or a file each
 * refresh follows the last under a line with its time, with no control codes.
 */
export function watchFrame(text: string, at: Date, everySeconds: number, terminal: boolean): string {
  const time = [at.getHours(), at.getMinutes(), at.getSeconds()]
    .map((n) => String(n).padStart(2, '0'))
    .join(':');
  if (terminal) return `\u001B[2J\u001B[Hstatus at ${time}, every ${everySeconds} s (Ctrl-C stops)\n${text}`;
  return `--- status at ${time}\n${text}`;
}
