import { createReadStream } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { execa } from 'execa';
import { InterruptedError, ToolError } from '../errors.ts';
import { formatSeconds } from '../format-units.ts';
import { type Command, formatCommand, formatPipeline } from './command.ts';
import { noteStarted } from './process-record.ts';

/** partclone, debugfs, mkfs.* and sfdisk live in sbin directories that an ordinary user's PATH lacks. */
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/**
 * Where host tools are looked up: PATH plus the sbin directories, or exactly PI_LAB_TOOL_PATH
 * when set (how a test shows what happens when a tool is missing).
 */
export function toolSearchPath(basePath = process.env.PATH ?? ''): string {
  const override = process.env.PI_LAB_TOOL_PATH;
  if (override) return override;
  const dirs = basePath.split(':').filter(Boolean);
  return [...dirs, ...SBIN_DIRS.filter((dir) => !dirs.includes(dir))].join(':');
}

export interface RunOptions {
  /** Bytes or text written to stdin; stdin is closed otherwise (tools that prompt must never hang). */
  readonly input?: string | Uint8Array;
  readonly inputFile?: string;
  readonly outputFile?: string;
  /** Exit codes that count as success besides 0 (e.g. a tool's "differences found"). */
  readonly okExitCodes?: readonly number[];
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  readonly durationMs: number;
}

const TAIL_LINES = 20;

/** Every child still running, so that an interrupt can stop them all before cleaning up. */
const runningChildren = new Set<{ kill: (signal?: NodeJS.Signals) => boolean }>();

function track<T extends Promise<unknown> & { kill: (signal?: NodeJS.Signals) => boolean }>(child: T): T {
  if (interruptedBy) child.kill('SIGTERM');
  runningChildren.add(child);
  void child.finally(() => runningChildren.delete(child)).catch(() => undefined);
  return child;
}

let interruptedBy: string | undefined;

const interruption = new AbortController();

/** Aborted on Ctrl-C: in-process work (uploads, SSH commands) listens to it as child tools do to SIGTERM. */
export const interruptedSignal: AbortSignal = interruption.signal;

/** After Ctrl-C: stop every running child and refuse to start new ones, so work unwinds at once. */
export function interruptAll(signal: string): void {
  interruptedBy = signal;
  for (const child of runningChildren) child.kill('SIGTERM');
  interruption.abort(new InterruptedError(signal));
}

export function interruptionSignal(): string | undefined {
  return interruptedBy;
}

function refuseIfInterrupted(): void {
  if (interruptedBy) throw new InterruptedError(interruptedBy);
}

/** partclone redraws its progress with carriage returns: hundreds of lines that say nothing. */
const PROGRESS = /\s*Elapsed: [\d:]+, Remaining: [\d:]+, Completed: +[\d.]+%, +[\d.]+ ?\w+\/min,/g;

function tail(text: string): string {
  const lines = text
    .split(/\r?\n|\r/)
    .map((line) => line.replace(PROGRESS, '').trimEnd())
    .filter((line) => line !== '');
  return lines.slice(-TAIL_LINES).join('\n');
}

function environment(cmd: Command): Record<string, string> {
  return { ...cmd.env, PATH: toolSearchPath(cmd.env?.PATH) };
}

/** What every child gets: the tool path, its own cwd, and no throwing (we build the error). */
function baseOptions(cmd: Command) {
  return { env: environment(cmd), cwd: cmd.cwd, reject: false, stripFinalNewline: false } as const;
}

/** Runs one command to completion and returns its output; a failure becomes a ToolError. */
export async function runCommand(cmd: Command, options: RunOptions = {}): Promise<RunResult> {
  refuseIfInterrupted();
  noteStarted(cmd);
  const result = await track(
    execa(cmd.program, cmd.args, {
      ...baseOptions(cmd),
      encoding: 'utf8',
      ...stdinOption(options),
      stdout: options.outputFile ? { file: options.outputFile } : 'pipe',
      cancelSignal: options.signal,
    }),
  );
  const exitCode = result.exitCode ?? -1;
  const ok =
    !result.failed || (result.exitCode !== undefined && (options.okExitCodes ?? []).includes(exitCode));
  if (!ok) throw toolError(cmd, result);
  return { stdout: result.stdout, stderr: result.stderr, exitCode, durationMs: result.durationMs };
}

/** Like runCommand, for tools whose stdout is binary (file contents). */
export async function runCommandForBytes(cmd: Command): Promise<Buffer> {
  refuseIfInterrupted();
  noteStarted(cmd);
  const result = await track(
    execa(cmd.program, cmd.args, { ...baseOptions(cmd), stdin: 'ignore', encoding: 'buffer' }),
  );
  if (result.failed) {
    throw toolError(cmd, {
      durationMs: result.durationMs,
      exitCode: result.exitCode,
      signal: result.signal,
      code: result.code,
      originalMessage: result.originalMessage,
      stderr: Buffer.from(result.stderr).toString('utf8'),
    });
  }
  return Buffer.from(result.stdout);
}

function stdinOption(options: RunOptions): {
  input?: string | Uint8Array;
  stdin?: { file: string } | 'ignore';
} {
  if (options.input !== undefined) return { input: options.input };
  if (options.inputFile) return { stdin: { file: options.inputFile } };
  return { stdin: 'ignore' };
}

interface FailedLike {
  readonly durationMs: number;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly stdout?: unknown;
  readonly stderr?: unknown;
  readonly originalMessage?: string;
  readonly code?: string;
  readonly timedOut?: boolean;
  readonly isCanceled?: boolean;
}

/**
 * Ctrl-C in a terminal (or a SIGTERM to the process group) reaches every child tool at once, maybe
 * before this process's own handler runs: a tool that died of it was interrupted, it did not fail.
 */
const INTERRUPTING_SIGNALS = new Set(['SIGINT', 'SIGTERM', 'SIGHUP']);

/** `stoppedByCaller`: killed on purpose by the code that started it (a pipeline stopping its other stages). */
function toolError(cmd: Command, result: FailedLike, stoppedByCaller = false): ToolError | InterruptedError {
  const killedFromOutside = !result.timedOut && !result.isCanceled && !stoppedByCaller;
  if (result.signal && INTERRUPTING_SIGNALS.has(result.signal) && killedFromOutside)
    return new InterruptedError(interruptedBy ?? result.signal);
  const notFound = result.code === 'ENOENT';
  const status = result.signal
    ? `killed by ${result.signal}`
    : notFound
      ? 'not found'
      : `exit ${result.exitCode ?? '?'}`;
  const output = [result.stderr, result.stdout].filter((s): s is string => typeof s === 'string').join('\n');
  const ran = notFound ? '' : ` after ${formatSeconds(result.durationMs)}`;
  return new ToolError(
    `${cmd.program} failed (${status})${ran}`,
    formatCommand(cmd),
    status,
    tail(output || (result.originalMessage ?? '')),
  );
}

/**
 * Runs `a | b | c`, streaming from a file or readable into the first stage; the last stage's output
 * is discarded. Every stage must succeed: a failure names the stage that failed.
 */
export async function runPipeline(
  commands: readonly Command[],
  io: { readonly from?: string | Readable } = {},
): Promise<void> {
  const stages = commands.map((cmd) => spawnStreaming(cmd, { stdin: 'pipe' }));
  const source = typeof io.from === 'string' ? createReadStream(io.from) : io.from;
  const links = stages.map((stage, index) => {
    const input = index === 0 ? source : stages[index - 1]?.stdout;
    if (input) input.pipe(stage.stdin);
    else stage.stdin.end();
    stage.stdin.on('error', () => undefined);
    return stage;
  });
  links.at(-1)?.stdout.resume();
  // A stage that dies leaves its neighbours blocked on a pipe nobody drains: stop them all at once.
  let firstFailure: { reason: unknown } | undefined;
  await Promise.allSettled(
    links.map((stage) =>
      stage.done.catch((reason: unknown) => {
        if (!firstFailure) {
          firstFailure = { reason };
          links.forEach((other) => other.kill());
          source?.destroy();
        }
      }),
    ),
  );
  if (firstFailure) {
    const { reason } = firstFailure;
    if (reason instanceof ToolError) {
      throw new ToolError(
        `${reason.message} in ${formatPipeline(commands)}`,
        reason.command,
        reason.exitStatus,
        reason.outputTail,
      );
    }
    throw reason;
  }
}

export interface StreamingProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Settles when the process exits with its stderr: rejects with a ToolError unless it exited 0. */
  readonly done: Promise<string>;
  kill(): void;
}

/** Starts a process whose stdout the caller consumes as a stream (stderr is kept for the error). */
export function spawnStreaming(
  cmd: Command,
  options: { readonly stdin: 'pipe' | 'ignore' },
): StreamingProcess {
  noteStarted(cmd);
  const child = track(
    execa(cmd.program, cmd.args, {
      ...baseOptions(cmd),
      buffer: { stdout: false, stderr: true },
      stdin: options.stdin === 'pipe' ? 'pipe' : 'ignore',
      stdout: 'pipe',
    }),
  );
  let stoppedByCaller = false;
  const done = child.then((result) => {
    if (result.failed) throw toolError(cmd, result, stoppedByCaller);
    return typeof result.stderr === 'string' ? result.stderr : '';
  });
  // With stdin ignored, a closed stand-in keeps the type simple for callers that never write.
  const stdin = child.stdin ?? new PassThrough().end();
  const kill = (): void => {
    stoppedByCaller = true;
    child.kill();
  };
  return { stdin, stdout: child.stdout, done, kill };
}
