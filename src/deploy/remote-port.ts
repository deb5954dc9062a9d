import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from '../exec/command.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { recordHostKey } from '../ssh/record-host-key.ts';
import type { ExecOptions, ExecResult } from '../ssh/remote-exec.ts';
import { type RootShell, rootShell } from '../ssh/root-shell.ts';
import type { HostKeyAcceptor, SshEndpoint, SshSettings } from '../ssh/ssh-endpoint.ts';
import type { SudoPassword } from '../ssh/sudo-password.ts';

/** A shell on a Pi, as deploy uses it: the SSH session in a real run, a recording in a dry run. */
export interface RemoteHost {
  readonly endpoint: SshEndpoint;
  describe(): string;
  /** A non-zero exit is a result, not an error. */
  exec(cmd: Command, options?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but a non-zero exit rejects with a ToolError. */
  run(cmd: Command, options?: ExecOptions): Promise<ExecResult>;
  /** The same commands as root (through sudo unless the login user is root). */
  readonly root: RootShell;
  close(): Promise<void>;
}

/** What reaching a Pi takes: SSH settings, and the sudo password for its root commands. */
export type ReachSettings = SshSettings & { readonly sudo: SudoPassword };

export type ConnectSettings = ReachSettings & { readonly connectTimeoutSeconds: number };

export type OfferedHostKey = Parameters<HostKeyAcceptor>[0];

/** Somewhere to keep a restore's full log. */
export interface LogSink {
  readonly file: string;
  write(chunk: string): void;
  end(): Promise<void>;
}

/** Every effect deploy has outside its own process: the Pis, time passing, files kept here. */
export interface RemotePort {
  connect(endpoint: SshEndpoint, settings: ConnectSettings): Promise<RemoteHost>;
  /** Between attempts at reaching a host that reboots. */
  pause(milliseconds: number): Promise<void>;
  openLog(dir: string, name: string): Promise<LogSink>;
  recordHostKey(
    knownHostsFile: string,
    endpoint: SshEndpoint,
    key: OfferedHostKey,
    comment: string,
  ): Promise<void>;
}

export const SSH_PORT: RemotePort = {
  async connect(endpoint, settings) {
    const session = await connectSsh(endpoint, settings);
    return Object.assign(session, { root: rootShell(session, settings.sudo) });
  },
  pause: (milliseconds) => sleep(milliseconds),
  async openLog(dir, name) {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, name);
    const stream = createWriteStream(file);
    return {
      file,
      write: (chunk) => stream.write(chunk),
      end: () => new Promise((resolve) => stream.end(resolve)),
    };
  },
  recordHostKey: (knownHostsFile, endpoint, key, comment) =>
    recordHostKey(knownHostsFile, endpoint, key, comment),
};
