import type { Duplex } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { ToolError } from '../errors.ts';
import type { Command } from '../exec/command.ts';
import { type ExecOptions, type ExecResult, execRemote, renderRemoteCommand, tail } from './remote-exec.ts';
import type { SshConnection } from './ssh-connection.ts';
import { describeEndpoint, type SshEndpoint } from './ssh-endpoint.ts';
import { connectionLost, sessionClosed } from './ssh-errors.ts';

export interface SshSession {
  readonly endpoint: SshEndpoint;
  /** `pi@10.0.0.2:2222 via pi@10.0.0.1` */
  describe(): string;
  /** Runs a command; a non-zero exit is a result, not an error. */
  exec(cmd: Command, options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a non-zero exit (or a signal) rejects with a ToolError carrying the output tail. */
  run(cmd: Command, options?: ExecOptions): Promise<ExecResult>;
  /** One SFTP channel per session, opened on first use. */
  sftp(): Promise<SFTPWrapper>;
  /** A TCP stream to host:port opened from the far side (ssh -W). */
  forwardTo(host: string, port: number): Promise<Duplex>;
  /** Resolves when the connection is gone, closed by us or lost (never rejects). */
  readonly closed: Promise<void>;
  readonly isClosed: boolean;
  /** Idempotent; closes the jump connections too. */
  close(): Promise<void>;
}

/** `connections` run from the first jump host to the target. */
export class ConnectedSession implements SshSession {
  readonly closed: Promise<void>;
  private readonly target: SshConnection;
  private sftpChannel: Promise<SFTPWrapper> | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly endpoint: SshEndpoint,
    private readonly connections: readonly SshConnection[],
  ) {
    const target = connections.at(-1);
    if (!target) throw new Error('a session needs at least one connection');
    this.target = target;
    this.closed = target.closed;
    // A lost target leaves nothing to do on the jump hosts: release them too.
    void target.closed.then(() => this.close());
  }

  describe(): string {
    return describeEndpoint(this.endpoint);
  }

  get isClosed(): boolean {
    return this.target.isClosed;
  }

  exec(cmd: Command, options?: ExecOptions): Promise<ExecResult> {
    return execRemote(this.target, this.describe(), cmd, options);
  }

  async run(cmd: Command, options?: ExecOptions): Promise<ExecResult> {
    const result = await this.exec(cmd, options);
    if (result.exitCode === 0) return result;
    const status = result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode ?? '?'}`;
    const text = renderRemoteCommand(cmd);
    const output = [result.stderr, result.stdout].filter((part) => part.trim() !== '').join('\n');
    throw new ToolError(
      `${cmd.program} failed on ${this.describe()} (${status})`,
      `ssh ${this.describe()} ${text}`,
      status,
      tail(output),
    );
  }

  sftp(): Promise<SFTPWrapper> {
    if (!this.sftpChannel) {
      const opening = this.openSftp();
      this.sftpChannel = opening;
      // A failed open is not cached: the next call tries again.
      opening.catch(() => {
        if (this.sftpChannel === opening) this.sftpChannel = undefined;
      });
    }
    return this.sftpChannel;
  }

  forwardTo(host: string, port: number): Promise<Duplex> {
    const what = `a forward to ${host}:${port}`;
    if (this.target.isClosed) return Promise.reject(sessionClosed(this.describe(), what));
    return new Promise((resolve, reject) => {
      try {
        this.target.client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
          if (error) reject(new Error(`${this.describe()} could not open ${what}: ${error.message}`));
          else resolve(channel);
        });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private openSftp(): Promise<SFTPWrapper> {
    const what = 'the SFTP subsystem';
    if (this.target.isClosed) return Promise.reject(sessionClosed(this.describe(), what));
    return new Promise((resolve, reject) => {
      const lost = (): void => reject(connectionLost(this.describe(), what, this.target.lostReason));
      const unsubscribe = this.target.onClose(lost);
      try {
        this.target.client.sftp((error, sftp) => {
          unsubscribe();
          if (error) {
            reject(
              new ToolError(
                `cannot open SFTP on ${this.describe()}: ${error.message}`,
                `sftp ${this.describe()}`,
                'not started',
                'is the sftp Subsystem enabled in the host sshd_config?',
              ),
            );
          } else {
            resolve(sftp);
          }
        });
      } catch {
        unsubscribe();
        lost();
      }
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      // Target first: its channel runs through the jump connections.
      for (const connection of [...this.connections].reverse()) await connection.close();
    })();
    return this.closing;
  }
}
