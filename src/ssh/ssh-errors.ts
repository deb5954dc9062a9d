import { ToolError, UserError } from '../errors.ts';
import {
  describeEndpoint,
  endpointPort,
  formatEndpoint,
  proxyJumpSpec,
  type SshEndpoint,
} from './ssh-endpoint.ts';
import type { Identities } from './load-identities.ts';

/** What ssh2 and node:net put on their errors. */
export interface ConnectionErrorLike {
  readonly message: string;
  readonly code?: string | number;
  readonly level?: string;
}

export interface Hop {
  /** The host this connection goes to: the target or a jump host. */
  readonly endpoint: SshEndpoint;
  /** The whole endpoint the caller asked for (jump chain included). */
  readonly target: SshEndpoint;
  /** Whether `endpoint` is one of the target's jump hosts. */
  readonly isJump: boolean;
}

function where(hop: Hop): string {
  if (!hop.isJump) return `cannot connect to ${describeEndpoint(hop.target)}`;
  return `cannot connect to ${describeEndpoint(hop.target)}: the jump host ${formatEndpoint(hop.endpoint)} failed`;
}

function reachAdvice(hop: Hop): string[] {
  const { host, jump } = hop.endpoint;
  const jumpAdvice = jump
    ? `is the jump host ${formatEndpoint(jump)} up, and can it reach ${host}?`
    : hop.isJump
      ? `the jump host ${host} must be reachable from this machine directly`
      : 'if the host is only reachable through another machine, give it a jump host';
  return [
    `is ${host} switched on and reachable from ${jump ? formatEndpoint(jump) : 'here'}?`,
    'is this machine on the lab network (cable, Wi-Fi, VPN)?',
    jumpAdvice,
  ];
}

/** Maps a failure before login (TCP, handshake, timeout) to what the user should check. */
export function connectionFailed(error: ConnectionErrorLike, hop: Hop, timeoutSeconds: number): UserError {
  const { host } = hop.endpoint;
  const port = endpointPort(hop.endpoint);
  const prefix = where(hop);
  switch (error.code) {
    case 'ECONNREFUSED':
      return new UserError(`${prefix}: connection refused by ${host} port ${port}`, [
        `is sshd running on ${host}, and listening on port ${port}? (on the host: systemctl status ssh)`,
        'is the port right in the lab file?',
      ]);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      return new UserError(`${prefix}: ${host} is unreachable (${error.code})`, reachAdvice(hop));
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserError(`${prefix}: the host name ${host} does not resolve (${error.code})`, [
        'check the spelling, or use its IP address',
        'is this machine using the lab DNS server?',
      ]);
    case 'ECONNRESET':
    case 'EPIPE':
      return new UserError(`${prefix}: ${host} port ${port} closed the connection (${error.code})`, [
        `is it an SSH server on port ${port}? sshd may also drop clients it refuses (MaxStartups, firewall, fail2ban)`,
      ]);
  }
  if (error.level === 'client-timeout') {
    return new UserError(`${prefix}: no SSH login to ${host} port ${port} within ${timeoutSeconds} s`, [
      ...reachAdvice(hop),
      'a host that is still booting can take longer: try again, or raise the connect timeout',
    ]);
  }
  if (/connection lost before handshake/i.test(error.message)) {
    return new UserError(`${prefix}: ${host} port ${port} closed the connection before the SSH handshake`, [
      `is it an SSH server on port ${port}? sshd may also drop clients it refuses (MaxStartups, firewall, fail2ban)`,
    ]);
  }
  return new UserError(`${prefix}: ${error.message}`);
}

/** The jump host could not open the TCP connection to the next host (a refused `direct-tcpip` channel). */
export function forwardFailed(
  error: ConnectionErrorLike,
  jump: SshEndpoint,
  next: SshEndpoint,
  target: SshEndpoint,
): UserError {
  const reason = error.message.replace(/^\(SSH\) Channel open failure:\s*/, '');
  const hostPort = `${next.host} port ${endpointPort(next)}`;
  return new UserError(
    `cannot connect to ${describeEndpoint(target)}: the jump host ${formatEndpoint(jump)} could not open a connection to ${hostPort} (${reason})`,
    [
      `is sshd running on ${hostPort}, and can ${jump.host} reach it?`,
      `does the jump host allow TCP forwarding (AllowTcpForwarding in its sshd_config)?`,
    ],
  );
}

/** Every key was refused: which were tried (paths only, never key material) and how to install one. */
export function authenticationFailed(hop: Hop, identities: Identities, serverMessage?: string): UserError {
  const { endpoint } = hop;
  const port = endpointPort(endpoint);
  const publicKey = identities.keyFiles[0] ?? '~/.ssh/id_ed25519';
  const jump = endpoint.jump ? ` -o ProxyJump=${proxyJumpSpec(endpoint.jump)}` : '';
  const target = hop.isJump ? ` (the jump host for ${describeEndpoint(hop.target)})` : '';
  return new UserError(
    `cannot log in to ${formatEndpoint(endpoint)}${target}: ${serverMessage ?? 'the server accepted none of the keys offered'}`,
    [
      `offered: ${identities.offered.length > 0 ? identities.offered.join(', ') : 'nothing'}`,
      ...identities.notes,
      `is the user right (${endpoint.user})?`,
      `install your public key on the host: ssh-copy-id -i ${publicKey}.pub${jump} -p ${port} ${endpoint.user}@${endpoint.host}`,
    ],
  );
}

/** Nothing to offer at all: no agent and no readable key file. */
export function noIdentities(hop: Hop, identities: Identities, triedFiles: readonly string[]): UserError {
  return new UserError(`cannot log in to ${formatEndpoint(hop.endpoint)}: no SSH key to offer`, [
    `key files looked for: ${triedFiles.join(', ')}`,
    ...identities.notes,
    'no ssh-agent is used (SSH_AUTH_SOCK is not set, or the agent is turned off)',
    `make a key with: ssh-keygen -t ed25519, then install it with: ssh-copy-id -p ${endpointPort(hop.endpoint)} ${hop.endpoint.user}@${hop.endpoint.host}`,
  ]);
}

export function connectionLost(session: string, commandText: string, cause: Error | undefined): UserError {
  return new UserError(`connection to ${session} lost while running ${commandText}`, [
    ...(cause ? [`cause: ${cause.message}`] : []),
    'the command may or may not have finished on the host',
    'check that the host is still up and on the network, then run again',
  ]);
}

export function sessionClosed(session: string, commandText: string): UserError {
  return new UserError(`cannot run ${commandText}: the connection to ${session} is closed`);
}

export function execTimedOut(
  session: string,
  commandText: string,
  seconds: number,
  output: string,
): ToolError {
  return new ToolError(
    `${commandText} on ${session} timed out after ${seconds} s`,
    `ssh ${session} ${commandText}`,
    `timed out after ${seconds} s`,
    output,
  );
}
