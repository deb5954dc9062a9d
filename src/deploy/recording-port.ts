import { ToolError, UserError } from '../errors.ts';
import type { Command } from '../exec/command.ts';
import { type ExecOptions, type ExecResult, renderRemoteCommand } from '../ssh/remote-exec.ts';
import { rootShell } from '../ssh/root-shell.ts';
import { describeEndpoint, type SshEndpoint } from '../ssh/ssh-endpoint.ts';
import type { SudoPassword } from '../ssh/sudo-password.ts';
import type { LogSink, RemoteHost, RemotePort } from './remote-port.ts';
import type { SimulatedPi } from './simulated-pi.ts';

/** One line per command, `[where] command`, in the order deploy sent them. */
export interface Recording {
  readonly lines: string[];
}

const done = Promise.resolve();

/**
 * The port of a dry run and of the step list's unit tests: every command goes to a simulated Pi
 * and is written down; nothing is connected to, no time passes, no file is written here.
 */
export function recordingPort(pi: SimulatedPi, recording: Recording): RemotePort {
  return {
    connect: (endpoint, settings) =>
      pi.answersAt(endpoint)
        ? Promise.resolve(recordedHost(pi, endpoint, recording, settings.sudo))
        : Promise.reject(new UserError(`${describeEndpoint(endpoint)} does not answer (connection refused)`)),
    pause: () => done,
    openLog: (dir, name) => Promise.resolve(memoryLog(`${dir}/${name}`)),
    recordHostKey: () => done,
  };
}

function recordedHost(
  pi: SimulatedPi,
  endpoint: SshEndpoint,
  recording: Recording,
  sudo: SudoPassword,
): RemoteHost {
  const where = describeEndpoint(endpoint);
  let closed = false;
  const exec = (cmd: Command, options?: ExecOptions): Promise<ExecResult> => {
    if (closed) return Promise.reject(new UserError(`${where}: the session is closed`));
    recording.lines.push(`[${where}] ${renderRemoteCommand(cmd)}`);
    try {
      return Promise.resolve(pi.answer(cmd, options));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  const shell: Omit<RemoteHost, 'root'> = {
    endpoint,
    describe: () => where,
    exec,
    async run(cmd, options) {
      const result = await exec(cmd, options);
      if (result.exitCode === 0) return result;
      const status = `exit ${result.exitCode ?? '?'}`;
      const text = renderRemoteCommand(cmd);
      throw new ToolError(
        `${cmd.program} failed on ${where} (${status})`,
        `ssh ${where} ${text}`,
        status,
        result.stderr,
      );
    },
    close: () => {
      closed = true;
      return done;
    },
  };
  return { ...shell, root: rootShell(shell, sudo) };
}

function memoryLog(file: string): LogSink {
  return { file, write: () => undefined, end: () => done };
}
