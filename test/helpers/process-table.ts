import { readdir, readFile } from 'node:fs/promises';

export interface ProcessInfo {
  readonly pid: number;
  readonly pgid: number;
  /** argv joined with spaces. */
  readonly command: string;
}

/** Every process visible in /proc (those that vanish while being read are skipped). */
export async function listProcesses(): Promise<ProcessInfo[]> {
  const result: ProcessInfo[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Field 5 (pgrp) follows the command name in parentheses, which may itself hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      result.push({ pid: Number(entry), pgid: Number(fields[2]), command });
    } catch {
      // exited meanwhile
    }
  }
  return result;
}

/** Processes of a process group, or whose arguments mention `text` (e.g. a test's temp dir). */
export async function processesOf(pgid: number, text?: string): Promise<ProcessInfo[]> {
  return (await listProcesses()).filter(
    (p) => p.command !== '' && (p.pgid === pgid || (text !== undefined && p.command.includes(text))),
  );
}
