import type { Change, HostChanges } from './compare-manifests.ts';

/** sha256 digests shortened for reading; `sha256:<hex> 0644 0:0` keeps its mode and owner. */
function short(value: string | undefined): string {
  if (value === undefined) return '—';
  return value.replace(/\b[0-9a-f]{64}\b/g, (hex) => hex.slice(0, 12));
}

function changeRows(changes: readonly Change[]): string[] {
  return changes.map((c) => `| \`${c.what}\` | ${short(c.old)} | ${short(c.new)} |`);
}

/** A Markdown report for a pull request or a job summary: one section per host that changes. */
export function renderChangeReport(hosts: readonly HostChanges[], comparedWith: string): string {
  const lines = [
    '## Image changes',
    '',
    `Compared with: ${comparedWith}`,
    '',
    '| host | now | baked | changes |',
    '|---|---|---|---|',
  ];
  for (const host of hosts) {
    const changed = host.oldVersion !== host.newVersion;
    const summary = !changed
      ? 'unchanged'
      : `${host.partitions.length} partition image(s), ${host.written.length} file(s)`;
    lines.push(`| ${host.host} | ${host.oldVersion ?? '(none)'} | ${host.newVersion} | ${summary} |`);
  }
  for (const host of hosts) {
    if (host.oldVersion === host.newVersion) continue;
    lines.push('', `### ${host.host}: ${host.oldVersion ?? '(none)'} → ${host.newVersion}`, '');
    for (const [title, changes] of [
      ['Partition images', host.partitions],
      ['Files written into the image', host.written],
      ['Inputs', host.inputs],
    ] as const) {
      if (changes.length === 0) continue;
      lines.push(`**${title}**`, '', '| what | old | new |', '|---|---|---|', ...changeRows(changes), '');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
