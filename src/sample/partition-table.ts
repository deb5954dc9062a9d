import { command } from '../exec/command.ts';
import { runCommand } from '../exec/run-command.ts';
import type { SampleLayout } from './sample-layout.ts';

/** sfdisk input for the Raspberry Pi OS layout: p1 FAT32 (LBA, type c), p2 Linux (83). */
export function renderSfdiskScript(layout: SampleLayout): string {
  return [
    'label: dos',
    `label-id: 0x${layout.diskId}`,
    'unit: sectors',
    '',
    `start=${layout.boot.startSector}, size=${layout.boot.sizeSectors}, type=c`,
    `start=${layout.root.startSector}, size=${layout.root.sizeSectors}, type=83`,
    '',
  ].join('\n');
}

export async function writePartitionTable(layout: SampleLayout, diskFile: string): Promise<void> {
  await runCommand(command('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', diskFile]), {
    input: renderSfdiskScript(layout),
  });
}
