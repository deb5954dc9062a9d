/** `user@host[:port]` or `host[:port]`, as ssh's -J takes it; also `[v6]:port`-free hostnames only. */
export interface SshDestination {
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
}

const USER = /^[a-z_][a-z0-9_-]{0,31}\$?$/i;
const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function isUserName(value: string): boolean {
  return USER.test(value);
}

export function isHostName(value: string): boolean {
  return HOST.test(value);
}

export function parseSshDestination(value: string): SshDestination | undefined {
  const match = /^(?:([^@]+)@)?([^@:]+)(?::(\d{1,5}))?$/.exec(value);
  if (!match) return undefined;
  const [, user, host, port] = match;
  if (host === undefined || !isHostName(host)) return undefined;
  if (user !== undefined && !isUserName(user)) return undefined;
  const portNumber = port === undefined ? undefined : Number(port);
  if (portNumber !== undefined && (portNumber < 1 || portNumber > 65535)) return undefined;
  return {
    host,
    ...(user === undefined ? {} : { user }),
    ...(portNumber === undefined ? {} : { port: portNumber }),
  };
}

export function formatSshDestination(destination: SshDestination): string {
  const user = destination.user ? `${destination.user}@` : '';
  const port = destination.port && destination.port !== 22 ? `:${destination.port}` : '';
  return `${user}${destination.host}${port}`;
}
