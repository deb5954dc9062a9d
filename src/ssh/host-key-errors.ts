import { UserError } from '../errors.ts';
import { shellQuote } from '../exec/command.ts';
import { fingerprintSha256, shortKeyType } from './fingerprint.ts';
import type { HostKeyMatch } from './host-key-check.ts';
import {
  DEFAULT_KNOWN_HOSTS_FILE,
  endpointPort,
  expandHome,
  hostKeyName,
  type SshEndpoint,
  sshCommandLine,
} from './ssh-endpoint.ts';

export interface HostKeyFacts {
  /** The host whose key this is (the jump host or the target). */
  readonly endpoint: SshEndpoint;
  readonly keyType: string;
  readonly keyBlob: Buffer;
  readonly knownHostsFile: string;
  readonly match: HostKeyMatch;
}

/** Unknown, changed or revoked: why the key is refused and the exact commands that fix it. */
export function hostKeyRefused(facts: HostKeyFacts): UserError {
  const { endpoint, keyType, knownHostsFile, match } = facts;
  const name = hostKeyName(endpoint);
  const key = `${keyType} ${fingerprintSha256(facts.keyBlob)}`;
  const file = shellQuote(knownHostsFile);
  const lines = match.lines.join(', ');
  switch (match.status) {
    case 'revoked':
      return new UserError(
        `the host key of ${name} (${key}) is marked @revoked in ${knownHostsFile} (line ${lines}): refusing to connect`,
        [
          'a revoked key is never accepted: give the host a new host key (e.g. re-image it), then accept the new key',
        ],
      );
    case 'changed':
      return new UserError(
        `WARNING: the host key of ${name} has CHANGED: it is now ${key}, but ${knownHostsFile} (line ${lines}) holds another ${keyType} key for it. Refusing to connect.`,
        [
          'someone may be intercepting the connection, or the host was re-imaged or re-installed and made new host keys',
          `only if you know why it changed, forget the old key: ssh-keygen -R ${shellQuote(name)} -f ${file}`,
          ...acceptAdvice(facts),
        ],
      );
    case 'unknown':
      return new UserError(`the host key of ${name} is not known: ${key} is not in ${knownHostsFile}`, [
        ...(match.knownTypes.length > 0
          ? [
              `${knownHostsFile} lists other key types for ${name} (${match.knownTypes.join(', ')}), not ${keyType}`,
            ]
          : []),
        ...acceptAdvice(facts),
      ]);
    case 'known':
      throw new Error(`hostKeyRefused called for a known key of ${name}`);
  }
}

function acceptAdvice(facts: HostKeyFacts): string[] {
  const { endpoint, keyType, knownHostsFile } = facts;
  const file = shellQuote(knownHostsFile);
  const keyscan = `ssh-keyscan -p ${endpointPort(endpoint)} -t ${shortKeyType(keyType)} ${endpoint.host}`;
  // ssh-keyscan cannot go through a jump host: it runs on the jump host instead.
  const keyscanLine = endpoint.jump
    ? `${sshCommandLine(endpoint.jump)} ${keyscan} >> ${file}`
    : `${keyscan} >> ${file}`;
  const options =
    knownHostsFile === expandHome(DEFAULT_KNOWN_HOSTS_FILE) ? [] : [`-o UserKnownHostsFile=${file}`];
  return [
    `check the fingerprint on the host itself (its console): ssh-keygen -lf /etc/ssh/ssh_host_${shortKeyType(keyType)}_key.pub`,
    `if it matches, accept the key: ${keyscanLine}`,
    `or connect once with ssh and answer yes: ${sshCommandLine(endpoint, options)}`,
  ];
}
