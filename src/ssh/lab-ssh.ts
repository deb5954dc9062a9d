import type { LabSsh } from '../lab/lab-types.ts';
import type { SshDestination } from '../lab/ssh-destination.ts';
import type { SshEndpoint, SshSettings } from './ssh-endpoint.ts';

/** The lab file's ssh section as connection settings. */
export function sshSettings(ssh: LabSsh): SshSettings {
  return {
    ...(ssh.identityFiles ? { identityFiles: ssh.identityFiles } : {}),
    ...(ssh.knownHostsFile ? { knownHostsFile: ssh.knownHostsFile } : {}),
    connectTimeoutSeconds: ssh.connectTimeoutSeconds,
  };
}

export function jumpEndpoint(jump: SshDestination, defaultUser: string): SshEndpoint {
  return { host: jump.host, user: jump.user ?? defaultUser, ...(jump.port ? { port: jump.port } : {}) };
}
