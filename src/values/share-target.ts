import path from 'node:path';
import { isHostName, isUserName } from './ssh-destination.ts';

export type ShareTarget =
  | { readonly kind: 'local'; readonly dir: string }
  | {
      readonly kind: 'sftp';
      readonly user?: string;
      readonly host: string;
      readonly port: number;
      /** Absolute path on the server. */
      readonly dir: string;
    };

/**
 * A share is a directory (local, or the NFS share mounted here; relative paths are relative to
 * `baseDir`) or `sftp://[user@]host[:port]/absolute/path`. Returns a reason instead when malformed.
 */
export function parseShareTarget(text: string, baseDir: string): ShareTarget | { readonly problem: string } {
  if (!text.includes('://')) {
    if (!text.trim()) return { problem: 'is empty' };
    return { kind: 'local', dir: path.resolve(baseDir, text) };
  }
  const match = /^sftp:\/\/(?:([^@/]+)@)?([^@/:]+)(?::(\d{1,5}))?(\/.*)$/.exec(text);
  if (!match) return { problem: 'is neither a directory nor sftp://[user@]host[:port]/path' };
  const [, user, host = '', port, dir = '/'] = match;
  if (user !== undefined && !isUserName(user)) return { problem: `has an invalid user name "${user}"` };
  if (!isHostName(host)) return { problem: `has an invalid host name "${host}"` };
  const portNumber = port === undefined ? 22 : Number(port);
  if (portNumber < 1 || portNumber > 65535) return { problem: `has an invalid port ${port ?? ''}` };
  const normalized = path.posix.normalize(decodeURIComponent(dir));
  if (normalized === '/') return { problem: "names the server's root directory; give the share's directory" };
  return {
    kind: 'sftp',
    host,
    port: portNumber,
    dir: normalized.replace(/\/$/, ''),
    ...(user === undefined ? {} : { user }),
  };
}

export function describeShareTarget(target: ShareTarget, defaultUser?: string): string {
  if (target.kind === 'local') return target.dir;
  const user = target.user ?? defaultUser;
  return `sftp://${user ? `${user}@` : ''}${target.host}${target.port === 22 ? '' : `:${target.port}`}${target.dir}`;
}
