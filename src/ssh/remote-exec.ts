import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { ToolError } from '../errors.ts';
import { type Command, formatCommand, shellQuote } from '../exec/command.ts';
import type { SshConnection } from './ssh-connection.ts';
import { connectionLost, execTimedOut, sessionClosed } from './ssh-errors.ts';

export interface ExecOptions {
  /** The channel is closed (and the remote command killed) after this long; the promise rejects. */
  readonly timeoutSeconds?: number;
  readonly onStdout?: (chunk: string) => void;
  readonly onStderr?: (chunk: string) => void;
  /** Written to the command's stdin, which is then closed (it is closed at once without this). */
  readonly stdin?: string | Buffer;
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  /** null when the remote command was killed by a signal (or the server sent no status). */
  readonly exitCode: number | null;
  /** e.g. `SIGKILL`. */
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
}

const TAIL_LINES = 20;

/**
 * The string the remote shell runs. sshd hands it to the user's login shell, so every word is quoted
 * by the one formatter that renders commands everywhere; `cwd` becomes a quoted `cd`.
 */
export function renderRemoteCommand(cmd: Command): string {
  const rendered = formatCommand(cmd);
  return cmd.cwd === undefined ? rendered : `cd ${shellQuote(cmd.cwd)} && ${rendered}`;
}

/** Runs one command on a channel of `connection`; settles exactly once, never hangs on a lost connection. */
export function execRemote(
  connection: SshConnection,
  session: string,
  cmd: Command,
  options: ExecOptions = {},
): Promise<ExecResult> {
  const text = renderRemoteCommand(cmd);
  if (connection.isClosed) return Promise.reject(sessionClosed(session, text));
  if (options.signal?.aborted) return Promise.reject(abortError(options.signal, session, text));
  return new Promise<ExecResult>((resolve, reject) => {
    const stdout = new Collector(options.onStdout);
    const stderr = new Collector(options.onStderr);
    const cleanups: (() => void)[] = [];
    let channel: ClientChannel | undefined;
    let exit: { code: number | null; signal?: string } | undefined;
    let settled = false;

    const settle = (outcome: { error: Error } | { result: ExecResult }): void => {
      if (settled) return;
      settled = true;
      cleanups.forEach((cleanup) => cleanup());
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.result);
    };
    const stop = (): void => {
      if (channel) killChannel(channel);
    };
    const lost = (): void => settle({ error: connectionLost(session, text, connection.lostReason) });

    cleanups.push(connection.onClose(lost));

    const { timeoutSeconds, signal } = options;
    if (timeoutSeconds !== undefined) {
      const timer = setTimeout(() => {
        stop();
        settle({ error: execTimedOut(session, text, timeoutSeconds, tail(stdout.text() + stderr.text())) });
      }, timeoutSeconds * 1000);
      cleanups.push(() => clearTimeout(timer));
    }
    if (signal) {
      const onAbort = (): void => {
        stop();
        settle({ error: abortError(signal, session, text) });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => signal.removeEventListener('abort', onAbort));
    }

    const onChannel = (error: Error | undefined, opened: ClientChannel): void => {
      if (error) {
        if (connection.isClosed) lost();
        else settle({ error: channelRefused(session, text, error) });
        return;
      }
      channel = opened;
      // Timed out or aborted while the channel was being opened.
      if (settled) return stop();
      opened.on('data', (chunk: Buffer) => stdout.add(chunk));
      opened.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
      opened.on('exit', (code: number | null, signalName?: string) => {
        exit = signalName ? { code, signal: signalName } : { code };
      });
      opened.on('error', () => undefined);
      opened.on('close', () => {
        stdout.end();
        stderr.end();
        // A channel closed without an exit status by a dying connection is a loss, not a result.
        if (!exit && connection.isClosed) return lost();
        settle({
          result: {
            exitCode: exit?.code ?? null,
            ...(exit?.signal ? { signal: exit.signal } : {}),
            stdout: stdout.text(),
            stderr: stderr.text(),
          },
        });
      });
      opened.end(options.stdin);
    };

    try {
      connection.client.exec(text, onChannel);
    } catch (error) {
      // ssh2 throws 'Not connected' when the socket went away between our check and the call.
      if (connection.isClosed) lost();
      else settle({ error: error instanceof Error ? error : new Error(String(error)) });
    }
  });
}

/**
 * Kills the remote command (OpenSSH's `signal` request: killpg on the session), then closes the
 * channel. Closing alone would leave a non-pty command running on the host. ssh2's public
 * `signal()` refuses once stdin was closed (its state is then 'eof'), though sshd still honours it,
 * so the request goes through the protocol object directly when needed.
 */
function killChannel(channel: ClientChannel): void {
  const internals = channel as unknown as {
    outgoing?: { id?: number; state?: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  try {
    const id = internals.outgoing?.id;
    const state = internals.outgoing?.state;
    if (id !== undefined && (state === 'open' || state === 'eof'))
      internals._client?._protocol?.signal?.(id, 'KILL');
  } catch {
    // The channel or connection is already going away.
  }
  channel.close();
}

function channelRefused(session: string, text: string, error: Error): ToolError {
  // OpenSSH says only "open failed" when MaxSessions (10 by default) channels are already open.
  return new ToolError(
    `cannot run ${text} on ${session}: the server refused a new channel (${error.message}); too many commands at once? (sshd MaxSessions)`,
    `ssh ${session} ${text}`,
    'not started',
    '',
  );
}

function abortError(signal: AbortSignal, session: string, text: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new Error(`${text} on ${session} was aborted`);
}

class Collector {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parts: string[] = [];

  constructor(private readonly onChunk: ((chunk: string) => void) | undefined) {}

  add(chunk: Buffer): void {
    this.push(this.decoder.write(chunk));
  }

  end(): void {
    this.push(this.decoder.end());
  }

  text(): string {
    return this.parts.join('');
  }

  private push(text: string): void {
    if (text === '') return;
    this.parts.push(text);
    this.onChunk?.(text);
  }
}

export function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n');
}
