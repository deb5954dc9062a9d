import { spawn } from 'node:child_process';

/*
 * Test-side process runner on node:child_process, independent of src/exec: a test checks the
 * bake with tools it drives itself, and a hang in the code under test cannot hang the check.
 */

export interface SpawnResult {
  /** null when the process was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly pid: number;
}

export interface SpawnOptions {
  readonly cwd?: string;
  /** Replaces the environment when given (merge process.env yourself). */
  readonly env?: NodeJS.ProcessEnv;
  /** The whole process group is killed (SIGKILL) after this long; timedOut is then true. */
  readonly timeoutMs?: number;
  /** Called with the child's pid as soon as it is running (e.g. to signal it). */
  readonly onSpawn?: (pid: number) => void;
  /** Called with each chunk of stderr as it arrives. */
  readonly onStderr?: (text: string) => void;
  /** Called with each chunk of stdout as it arrives. */
  readonly onStdout?: (text: string) => void;
}

/** Runs a program in its own process group (so a timeout can kill every descendant); never rejects on exit status. */
export function spawnTool(
  program: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<SpawnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    let timedOut = false;
    const pid = child.pid ?? -1;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(pid, 'SIGKILL');
          }, options.timeoutMs);
    child.stdout.on('data', (data: Buffer) => {
      stdout.push(data);
      options.onStdout?.(data.toString('utf8'));
    });
    child.stderr.on('data', (data: Buffer) => {
      const text = data.toString('utf8');
      stderr += text;
      options.onStderr?.(text);
    });
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on('spawn', () => options.onSpawn?.(pid));
    child.on('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ exitCode, signal, stdout: Buffer.concat(stdout), stderr, timedOut, pid });
    });
  });
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Runs a program and returns its stdout; throws with its stderr unless it exits 0. */
export async function runTool(
  program: string,
  args: readonly string[],
  options: SpawnOptions = {},
): Promise<Buffer> {
  const result = await spawnTool(program, args, { timeoutMs: 120_000, ...options });
  if (result.exitCode !== 0) {
    const status = result.timedOut ? 'timed out' : `exit ${result.exitCode ?? result.signal ?? '?'}`;
    throw new Error(`${program} ${args.join(' ')}: ${status}\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** `bash -o pipefail -c SCRIPT _ ARGS...`: pipelines of real tools, arguments passed as "$1"... never spliced in. */
export async function runBash(
  script: string,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): Promise<Buffer> {
  return runTool('bash', ['-o', 'pipefail', '-c', script, 'bash', ...args], options);
}
