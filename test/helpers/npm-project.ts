import { spawn } from 'node:child_process';
import { cp, symlink } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_DIR, TEST_SOURCE_DATE_EPOCH } from './bake-cli.ts';
import { killGroup } from './spawn-tool.ts';

/**
 * A copy of the project in which `npm run …` works as in the repository: package.json, src/,
 * scripts/, recipes/ and overlays/ copied (the CLIs find their project from their own path, so a
 * link would lead back to the repository), node_modules linked. Tests change its recipes and
 * overlays and write its images/ without touching the repository.
 */
export async function makeNpmProject(dir: string): Promise<string> {
  for (const entry of ['package.json', 'tsconfig.json', 'src', 'scripts', 'recipes', 'overlays'])
    await cp(path.join(PROJECT_DIR, entry), path.join(dir, entry), { recursive: true });
  await symlink(path.join(PROJECT_DIR, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

export interface NpmRun {
  /** npm's pid, which leads the run's own process group (as a shell's job does in a terminal). */
  readonly pid: number;
  readonly result: Promise<NpmResult>;
  /** Types these bytes on the terminal (only with `terminal`): "\x03" is Ctrl-C. */
  type(bytes: string): void;
  /** Everything written so far: stdout, and stderr after it (merged when on a terminal). */
  output(): string;
}

export interface NpmResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface NpmOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Run under a pseudo-terminal (util-linux `script`), as in an interactive shell. */
  readonly terminal?: boolean;
  readonly timeoutMs?: number;
}

/** `npm run ARGS` in `projectDir`, in its own process group; never rejects on exit status. */
export function runNpm(projectDir: string, args: readonly string[], options: NpmOptions = {}): NpmRun {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SOURCE_DATE_EPOCH: TEST_SOURCE_DATE_EPOCH,
    ...options.env,
  };
  delete env.FORCE_COLOR;
  delete env.CI;
  const npmArgs = ['run', ...args];
  const [program, argv] = options.terminal
    ? // A new pty has no size; a live view needs the width a real terminal has.
      [
        'script',
        [
          '-q',
          '-e',
          '-f',
          '-c',
          `stty cols 120 rows 40; exec ${['npm', ...npmArgs].map(shellQuote).join(' ')}`,
          '/dev/null',
        ],
      ]
    : ['npm', npmArgs];
  const child = spawn(program, argv, {
    cwd: projectDir,
    env,
    stdio: [options.terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data: Buffer) => (stdout += data.toString('utf8')));
  child.stderr?.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
  const pid = child.pid ?? -1;
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      killGroup(pid, 'SIGKILL');
    },
    options.timeoutMs ?? 5 * 60_000,
  );
  const result = new Promise<NpmResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout, stderr, timedOut });
    });
  });
  return {
    pid,
    result,
    type: (bytes) => child.stdin?.write(bytes),
    output: () => stdout + stderr,
  };
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function npmOutput(result: NpmResult): string {
  const status = result.timedOut ? 'TIMED OUT' : `exit ${result.exitCode ?? result.signal ?? '?'}`;
  return `${status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
