import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { knownHostsName } from './known-hosts.ts';

export interface SshEndpoint {
  readonly host: string;
  /** 22 when absent. */
  readonly port?: number;
  readonly user: string;
  /** Reached through this host first (ssh's ProxyJump). */
  readonly jump?: SshEndpoint;
}

/** What a caller may set; every field has a default (see resolveSshSettings). */
export interface SshSettings {
  /** Private keys to offer; default: those of ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exist. */
  readonly identityFiles?: readonly string[];
  /** Default ~/.ssh/known_hosts. */
  readonly knownHostsFile?: string;
  /** Default: true when an agent socket is known. */
  readonly useAgent?: boolean;
  /** The ssh-agent socket; default SSH_AUTH_SOCK. */
  readonly agentSocket?: string;
  /** Default 15: TCP connect, handshake and login together. */
  readonly connectTimeoutSeconds?: number;
  /** Default 10; the connection counts as lost after 3 unanswered keepalives. */
  readonly keepaliveSeconds?: number;
  /**
   * Asked about the target's (not a jump host's) key when known_hosts does not list it: true
   * accepts it for this connection. For a host this tool has just re-imaged, whose first boot made
   * new host keys; never for revoked keys.
   */
  readonly acceptHostKey?: HostKeyAcceptor;
}

export type HostKeyAcceptor = (key: {
  readonly keyType: string;
  readonly keyBlob: Buffer;
  readonly status: 'unknown' | 'changed';
}) => boolean;

export interface ResolvedSshSettings {
  readonly identityFiles: readonly string[];
  /** Whether the files were named by the caller (a missing one is then worth a mention). */
  readonly identityFilesExplicit: boolean;
  readonly knownHostsFile: string;
  /** The agent socket, when the agent is to be used. */
  readonly agentSocket: string | undefined;
  readonly connectTimeoutSeconds: number;
  readonly keepaliveSeconds: number;
  readonly acceptHostKey: HostKeyAcceptor | undefined;
}

export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'] as const;
export const DEFAULT_KNOWN_HOSTS_FILE = '~/.ssh/known_hosts';
export const KEEPALIVE_COUNT_MAX = 3;

/** Pure: defaults filled in and `~` expanded against `home`. */
export function resolveSshSettings(
  settings: SshSettings = {},
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): ResolvedSshSettings {
  const agentSocket = settings.agentSocket ?? (env.SSH_AUTH_SOCK || undefined);
  const useAgent = settings.useAgent ?? agentSocket !== undefined;
  if (useAgent && !agentSocket) {
    throw new UserError('the SSH agent was asked for but SSH_AUTH_SOCK is not set', [
      'start one with: eval "$(ssh-agent)" && ssh-add',
    ]);
  }
  return {
    identityFiles: (settings.identityFiles ?? DEFAULT_IDENTITY_FILES).map((file) => expandHome(file, home)),
    identityFilesExplicit: settings.identityFiles !== undefined,
    knownHostsFile: expandHome(settings.knownHostsFile ?? DEFAULT_KNOWN_HOSTS_FILE, home),
    agentSocket: useAgent ? agentSocket : undefined,
    connectTimeoutSeconds: positive(settings.connectTimeoutSeconds ?? 15, 'connectTimeoutSeconds'),
    keepaliveSeconds: positive(settings.keepaliveSeconds ?? 10, 'keepaliveSeconds'),
    acceptHostKey: settings.acceptHostKey,
  };
}

export function expandHome(file: string, home: string = os.homedir()): string {
  if (file === '~') return home;
  if (file.startsWith('~/')) return path.join(home, file.slice(2));
  return file;
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new UserError(`SSH ${name} must be a positive number`);
  return value;
}

export function endpointPort(endpoint: SshEndpoint): number {
  return endpoint.port ?? 22;
}

/** `pi@10.0.0.2:2222` (the port only when it is not 22). */
export function formatEndpoint(endpoint: SshEndpoint): string {
  const port = endpointPort(endpoint);
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.user}@${host}${port === 22 ? '' : `:${port}`}`;
}

/** `pi@10.0.0.2:2222 via pi@10.0.0.1` (every jump, nearest first). */
export function describeEndpoint(endpoint: SshEndpoint): string {
  return endpoint.jump
    ? `${formatEndpoint(endpoint)} via ${describeEndpoint(endpoint.jump)}`
    : formatEndpoint(endpoint);
}

/** The name the host has in known_hosts and in messages: `host` or `[host]:port`. */
export function hostKeyName(endpoint: SshEndpoint): string {
  return knownHostsName(endpoint.host, endpointPort(endpoint));
}

const HOST = /^[A-Za-z0-9]([A-Za-z0-9.:_-]*[A-Za-z0-9])?$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** Hosts and users end up in commands we print and in remote shells: only plain names pass. */
export function checkEndpoint(endpoint: SshEndpoint): void {
  const where = describeEndpoint(endpoint);
  if (!HOST.test(endpoint.host)) {
    throw new UserError(
      `SSH host ${JSON.stringify(endpoint.host)} (in ${where}) is not a host name or address`,
    );
  }
  if (!USER.test(endpoint.user)) {
    throw new UserError(`SSH user ${JSON.stringify(endpoint.user)} (in ${where}) is not a user name`);
  }
  const port = endpointPort(endpoint);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UserError(`SSH port ${port} (in ${where}) must be a whole number from 1 to 65535`);
  }
  if (endpoint.jump) checkEndpoint(endpoint.jump);
}

/** ssh's `-J` / ProxyJump value for a chain of jumps, the first host to reach first. */
export function proxyJumpSpec(jump: SshEndpoint): string {
  return jump.jump ? `${proxyJumpSpec(jump.jump)},${formatEndpoint(jump)}` : formatEndpoint(jump);
}

/** The OpenSSH command line that reaches `endpoint` (for advice in messages): `ssh [-J …] -p N user@host`. */
export function sshCommandLine(endpoint: SshEndpoint, options: readonly string[] = []): string {
  const jump = endpoint.jump ? ['-J', proxyJumpSpec(endpoint.jump)] : [];
  const port = String(endpointPort(endpoint));
  return ['ssh', ...options, ...jump, '-p', port, `${endpoint.user}@${endpoint.host}`].join(' ');
}
