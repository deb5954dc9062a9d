import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import { InterruptedError, UserError } from '../errors.ts';
import { interruptedSignal, interruptionSignal } from '../exec/run-command.ts';
import { keyBlobType } from './fingerprint.ts';
import { preferredHostKeyAlgorithms } from './host-key-algorithms.ts';
import { knownKeyTypes, matchHostKey } from './host-key-check.ts';
import { hostKeyRefused } from './host-key-errors.ts';
import { type KnownHostsEntry, readKnownHosts } from './known-hosts.ts';
import { type Identities, loadIdentities } from './load-identities.ts';
import { SshConnection } from './ssh-connection.ts';
import {
  checkEndpoint,
  endpointPort,
  hostKeyName,
  KEEPALIVE_COUNT_MAX,
  type ResolvedSshSettings,
  resolveSshSettings,
  type SshEndpoint,
  type SshSettings,
} from './ssh-endpoint.ts';
import {
  authenticationFailed,
  connectionFailed,
  type ConnectionErrorLike,
  forwardFailed,
  type Hop,
  noIdentities,
} from './ssh-errors.ts';
import { ConnectedSession, type SshSession } from './ssh-session.ts';

/**
 * Connects and logs in, through the jump hosts first when there are any. Every host key is checked
 * against known_hosts; nothing is ever accepted silently. On failure every connection made so far
 * is closed before the (UserError) rejection.
 */
export async function connectSsh(endpoint: SshEndpoint, settings: SshSettings = {}): Promise<SshSession> {
  checkEndpoint(endpoint);
  const resolved = resolveSshSettings(settings);
  const knownHosts = await readKnownHosts(resolved.knownHostsFile);
  const connections: SshConnection[] = [];
  try {
    for (const hopEndpoint of hopsOf(endpoint)) {
      const hop: Hop = { endpoint: hopEndpoint, target: endpoint, isJump: hopEndpoint !== endpoint };
      const identities = await loadIdentities(resolved, hopEndpoint.user);
      if (identities.methods.length === 0) throw noIdentities(hop, identities, resolved.identityFiles);
      const previous = connections.at(-1);
      const socket = previous ? await forwardThrough(previous, hop) : connectTcp(hopEndpoint);
      connections.push(await logIn(hop, socket, { settings: resolved, knownHosts, identities }));
    }
  } catch (error) {
    for (const connection of connections.reverse()) await connection.close();
    throw error;
  }
  return new ConnectedSession(endpoint, connections);
}

/** The first jump host first, the target last. */
function hopsOf(endpoint: SshEndpoint): SshEndpoint[] {
  return endpoint.jump ? [...hopsOf(endpoint.jump), endpoint] : [endpoint];
}

/** Our own socket rather than ssh2's: closing must be able to destroy it whatever state ssh2 is in. */
function connectTcp(endpoint: SshEndpoint): net.Socket {
  const socket = net.connect({ host: endpoint.host, port: endpointPort(endpoint) });
  // SFTP writes crawl with Nagle's algorithm on.
  socket.setNoDelay(true);
  return socket;
}

function forwardThrough(jump: SshConnection, hop: Hop): Promise<Duplex> {
  const { endpoint } = hop;
  return new Promise((resolve, reject) => {
    const fail = (error: ConnectionErrorLike): void =>
      reject(forwardFailed(error, jump.endpoint, endpoint, hop.target));
    try {
      jump.client.forwardOut('127.0.0.1', 0, endpoint.host, endpointPort(endpoint), (error, channel) => {
        if (error) fail(error);
        else resolve(channel);
      });
    } catch (error) {
      fail(error as Error);
    }
  });
}

interface LogInFacts {
  readonly settings: ResolvedSshSettings;
  readonly knownHosts: readonly KnownHostsEntry[];
  readonly identities: Identities;
}

const ALL_METHODS_FAILED = /all configured authentication methods failed/i;
const TOO_MANY_FAILURES = /too many authentication failures/i;

function logIn(hop: Hop, socket: Duplex, facts: LogInFacts): Promise<SshConnection> {
  const { settings, knownHosts, identities } = facts;
  const { endpoint } = hop;
  const host = endpoint.host;
  const port = endpointPort(endpoint);
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    const notes: string[] = [];
    let refusal: UserError | undefined;
    let settled = false;

    // Ctrl-C must not wait for a host that never answers (up to connect_timeout).
    const onInterrupt = (): void => fail(new InterruptedError(interruptionSignal() ?? 'SIGINT'));
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      interruptedSignal.removeEventListener('abort', onInterrupt);
      // Keep a listener: ssh2 may still report the teardown as an 'error' event.
      client.removeAllListeners('ready');
      socket.destroy();
      reject(error);
    };
    const authFailed = (serverMessage?: string): UserError =>
      authenticationFailed(hop, { ...identities, notes: [...identities.notes, ...notes] }, serverMessage);

    client.on('error', (error: Error & ConnectionErrorLike) => {
      if (refusal) return fail(refusal);
      // The agent and a single key failing to sign are not fatal: ssh2 goes on to the next method.
      if (error.level === 'agent') return void notes.push(`the ssh-agent failed: ${error.message}`);
      if (error.level === 'client-authentication' && !ALL_METHODS_FAILED.test(error.message)) {
        return void notes.push(error.message);
      }
      if (error.level === 'client-authentication') return fail(authFailed());
      if (TOO_MANY_FAILURES.test(error.message)) {
        notes.push(
          'sshd gives up after MaxAuthTries keys (6 by default): list only the right key file, or remove unneeded keys from the agent (ssh-add -d)',
        );
        return fail(authFailed(`the server said: ${error.message}`));
      }
      fail(connectionFailed(error, hop, settings.connectTimeoutSeconds));
    });
    client.on('close', () => {
      fail(
        refusal ??
          connectionFailed(
            { message: 'Connection lost before handshake' },
            hop,
            settings.connectTimeoutSeconds,
          ),
      );
    });
    client.once('ready', () => {
      settled = true;
      interruptedSignal.removeEventListener('abort', onInterrupt);
      client.removeAllListeners('error');
      client.removeAllListeners('close');
      resolve(new SshConnection(client, socket, endpoint));
    });

    const hostVerifier = (keyBlob: Buffer): boolean => {
      let keyType: string;
      try {
        keyType = keyBlobType(keyBlob);
      } catch {
        refusal = new UserError(`${hostKeyName(endpoint)} sent a host key this program cannot read`);
        return false;
      }
      const match = matchHostKey(knownHosts, host, port, keyType, keyBlob);
      if (match.status === 'known') return true;
      const { status } = match;
      if (!hop.isJump && status !== 'revoked' && settings.acceptHostKey?.({ keyType, keyBlob, status }))
        return true;
      refusal = hostKeyRefused({
        endpoint,
        keyType,
        keyBlob,
        knownHostsFile: settings.knownHostsFile,
        match,
      });
      return false;
    };

    if (interruptedSignal.aborted) return onInterrupt();
    interruptedSignal.addEventListener('abort', onInterrupt, { once: true });
    const knownTypes = knownKeyTypes(knownHosts, host, port);
    try {
      client.connect({
        sock: socket,
        username: endpoint.user,
        hostVerifier,
        authHandler: [...identities.methods],
        algorithms: { serverHostKey: preferredHostKeyAlgorithms(knownTypes) },
        readyTimeout: settings.connectTimeoutSeconds * 1000,
        keepaliveInterval: settings.keepaliveSeconds * 1000,
        keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      });
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
