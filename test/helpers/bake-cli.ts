import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SpawnResult, spawnTool } from './spawn-tool.ts';

/** The repository: package.json, scripts/, recipes/, overlays/. */
export const PROJECT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLE_LAB_FILE = path.join(PROJECT_DIR, 'recipes/lab.yaml');
const BAKE_IN_PROJECT = path.join(PROJECT_DIR, 'bench/bake-in-project.ts');

export interface CliResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly pid: number;
}

export interface CliOptions {
  /**
   * Bake with this project dir (recipes/ and overlays/) instead of the repository's: scripts/bake.ts
   * always uses the repository, so this runs the bake command with projectDir in a child the same way.
   */
  readonly projectDir?: string;
  /** Added to (and overriding) the test's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default 5 min: a hung bake fails the test instead of hitting ava's timeout. */
  readonly timeoutMs?: number;
  /** Run as this uid/gid with setpriv (the caller must be root). */
  readonly asUser?: { readonly uid: number; readonly gid: number };
  readonly onSpawn?: (pid: number) => void;
  readonly onStderr?: (text: string) => void;
  readonly onStdout?: (text: string) => void;
}

/** Pinned so that every test bake gives the same bytes whatever the default becomes. */
export const TEST_SOURCE_DATE_EPOCH = '1700000000';

function toCliResult(result: SpawnResult): CliResult {
  return { ...result, stdout: result.stdout.toString('utf8') };
}

function describeRun(result: CliResult): string {
  const status = result.timedOut ? 'TIMED OUT' : `exit ${result.exitCode ?? result.signal ?? '?'}`;
  return `${status}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

/** For assertion messages: what the CLI printed. */
export function cliOutput(result: CliResult): string {
  return describeRun(result);
}

async function runNodeScript(
  script: string,
  args: readonly string[],
  options: CliOptions,
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SOURCE_DATE_EPOCH: TEST_SOURCE_DATE_EPOCH,
    ...options.env,
  };
  delete env.FORCE_COLOR;
  const nodeArgs = ['--import', 'tsx', script, ...args];
  const [program, argv] = options.asUser
    ? [
        'setpriv',
        [
          `--reuid=${options.asUser.uid}`,
          `--regid=${options.asUser.gid}`,
          '--clear-groups',
          process.execPath,
          ...nodeArgs,
        ],
      ]
    : [process.execPath, nodeArgs];
  const result = await spawnTool(program, argv, {
    cwd: PROJECT_DIR,
    env,
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
    onSpawn: options.onSpawn,
    onStderr: options.onStderr,
    onStdout: options.onStdout,
  });
  return toCliResult(result);
}

/** `node --import tsx scripts/bake.ts ARGS` from the repository (what `npm run bake -- ARGS` runs). */
export function runBakeCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  if (options.projectDir) return runNodeScript(BAKE_IN_PROJECT, [options.projectDir, ...args], options);
  return runNodeScript(path.join(PROJECT_DIR, 'scripts/bake.ts'), args, options);
}

/** `node --import tsx scripts/NAME.ts ARGS` (what `npm run NAME -- ARGS` runs): publish, rollback, images… */
export function runScriptCli(
  name: string,
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  return runNodeScript(path.join(PROJECT_DIR, 'scripts', `${name}.ts`), args, options);
}

/** `npx tsx ci/NAME.ts ARGS`: a CI step, run locally as the workflow runs it. */
export function runCiStep(
  name: string,
  args: readonly string[],
  options: CliOptions = {},
): Promise<CliResult> {
  return runNodeScript(path.join(PROJECT_DIR, 'ci', `${name}.ts`), args, options);
}

/** `npm run -s import -- ARGS`, the documented import command. */
export async function runImportCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  const npmArgs = ['run', '-s', 'import', '--', ...args];
  const [program, argv] = options.asUser
    ? [
        'setpriv',
        [
          `--reuid=${options.asUser.uid}`,
          `--regid=${options.asUser.gid}`,
          '--clear-groups',
          'npm',
          ...npmArgs,
        ],
      ]
    : ['npm', npmArgs];
  const result = await spawnTool(program, argv, {
    cwd: PROJECT_DIR,
    env,
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
  });
  return toCliResult(result);
}

export interface JsonHostResult {
  readonly host: string;
  readonly status: string;
  readonly version?: string;
  readonly partitions?: Readonly<Record<string, string>>;
  readonly changes?: readonly string[];
  readonly error?: string;
}

export interface JsonBakeResult {
  readonly ok: boolean;
  readonly dryRun: boolean;
  readonly hosts: readonly JsonHostResult[];
}

/** Parses `--json` output; throws (with the output) when it is not one JSON document. */
export function parseJsonResult(result: CliResult): JsonBakeResult {
  try {
    return JSON.parse(result.stdout) as JsonBakeResult;
  } catch (error) {
    throw new Error(`--json output is not JSON (${(error as Error).message}):\n${describeRun(result)}`);
  }
}

/** host → status, from `--json` output. */
export function statusByHost(result: CliResult): Record<string, string> {
  return Object.fromEntries(parseJsonResult(result).hosts.map((host) => [host.host, host.status]));
}
