import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of the tick counts in /proc/<pid>/stat; 100 on every Linux ABI Node runs on. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) of every child this process has waited for, with their own waited
 * descendants: cutime + cstime of /proc/self/stat. The difference around one command is that
 * command's whole CPU cost, however many processes it ran in parallel.
 */
export function waitedChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name, which is in parentheses and may itself hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // The list starts at field 3 of proc(5), so cutime (16) and cstime (17) are at 13 and 14.
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  if (!Number.isFinite(cutime) || !Number.isFinite(cstime))
    throw new Error(`unexpected /proc/self/stat: ${stat}`);
  return (cutime + cstime) / TICKS_PER_SECOND;
}
