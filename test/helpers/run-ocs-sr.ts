import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ToolError } from '../../src/errors.ts';
import { command, formatCommand } from '../../src/exec/command.ts';
import { runCommand } from '../../src/exec/run-command.ts';
import { withSlot } from './dir-lock.ts';

export const needsRoot = true;

/*
 * ocs-sr can exit 0 after a partition failed to save (task_savedisk's status only gates the image
 * check), so its output is checked too. Clonezilla prints its failures in red (SETCOLOR_FAILURE,
 * ESC[1;31m) and with these phrases; a clean save or restore prints none of them. The "Error:" lines
 * from parted probing other disks are harmless and deliberately not matched.
 */
const FAILURE_MARKERS: readonly RegExp[] = [
  new RegExp(String.raw`\u001b\[1;31m`),
  /Program terminated/,
  /\bFailed\b/,
  /\*\*\*FAIL\*\*\*/,
  /is broken/,
  /Broken partition images/,
  /is incomplete/,
  /\/\/\/ERROR\/\/\//,
];

const TIMEOUT_EXIT = 124;

/*
 * A run is CPU-heavy (about a minute of CPU for a small disk): beyond one per core they only slow
 * each other down towards the timeout. The slots are shared by every process on the machine.
 */
const SLOTS = Math.max(1, os.availableParallelism());
const SLOT_PREFIX = path.join(os.tmpdir(), 'pi-lab-locks', 'ocs-sr');
const SLOT_WAIT_MS = 30 * 60 * 1000;

/** Outside any temp dir that is removed on failure, so that a failed run can still be read. */
export async function newOcsSrLogPath(label: string): Promise<string> {
  const dir = path.join(os.tmpdir(), 'pi-lab-logs');
  await mkdir(dir, { recursive: true });
  return path.join(dir, `ocs-sr-${label}-${process.pid}-${Date.now()}.log`);
}

export interface OcsSrOptions {
  /** Full output goes here, whatever happens. */
  readonly logFile: string;
  readonly timeoutSeconds?: number;
  /** Phrases a successful run must print, e.g. the image check's summary. */
  readonly mustPrint?: readonly RegExp[];
}

/** Runs ocs-sr unattended (stdin closed, no -c) and fails unless both its status and its output say it worked. */
export async function runOcsSr(args: readonly string[], options: OcsSrOptions): Promise<string> {
  const timeout = options.timeoutSeconds ?? 300;
  // timeout(1) signals the whole process group: partclone and pigz under ocs-sr die too.
  const cmd = command('timeout', ['-k', '15', String(timeout), 'ocs-sr', ...args]);
  const anyStatus = Array.from({ length: 255 }, (_, i) => i + 1);
  const result = await withSlot(SLOT_PREFIX, SLOTS, SLOT_WAIT_MS, () =>
    runCommand(cmd, { okExitCodes: anyStatus }),
  );
  const output = `${result.stdout}\n${result.stderr}`;
  await writeFile(options.logFile, `$ ${formatCommand(cmd)}\n${output}\nexit ${result.exitCode}\n`);

  const fail = (why: string): ToolError =>
    new ToolError(
      `ocs-sr ${why} (full log: ${options.logFile})`,
      formatCommand(cmd),
      `exit ${result.exitCode}`,
      tail(output),
    );
  if (result.exitCode === TIMEOUT_EXIT) throw fail(`did not finish within ${timeout} s`);
  if (result.exitCode !== 0) throw fail('failed');
  const marker = FAILURE_MARKERS.find((pattern) => pattern.test(output));
  if (marker) throw fail(`exited 0 but printed a failure (${String(marker)})`);
  const absent = (options.mustPrint ?? []).filter((pattern) => !pattern.test(output));
  if (absent.length > 0) throw fail(`exited 0 but never printed ${absent.map(String).join(', ')}`);
  return output;
}

function tail(output: string): string {
  return output
    .replace(/\r/g, '\n')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-25)
    .join('\n');
}
