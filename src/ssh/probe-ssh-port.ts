import net from 'node:net';
import type { Duplex } from 'node:stream';
import { describeError } from '../errors.ts';
import { connectSsh } from './connect-ssh.ts';
import { endpointPort, formatEndpoint, type SshEndpoint, type SshSettings } from './ssh-endpoint.ts';

/**
 * What answers on a host's SSH port, below any login: an SSH banner, an open port that says nothing
 * (sshd hung, or a wedged machine whose kernel still accepts connections), or nothing at all. A
 * host behind a jump host is probed from the jump host, as ssh -W would reach it.
 */
export type PortAnswer =
  | { readonly kind: 'banner'; readonly banner: string }
  | { readonly kind: 'silent' }
  | { readonly kind: 'closed'; readonly why: string };

export async function probeSshPort(
  endpoint: SshEndpoint,
  settings: SshSettings,
  timeoutSeconds: number,
): Promise<PortAnswer> {
  const { jump } = endpoint;
  if (!jump) return readBanner(() => net.connect(endpointPort(endpoint), endpoint.host), timeoutSeconds);
  let session;
  try {
    session = await connectSsh(jump, { ...settings, connectTimeoutSeconds: timeoutSeconds });
  } catch (error) {
    const why = describeError(error).split('\n')[0] ?? '';
    return { kind: 'closed', why: `its jump host ${formatEndpoint(jump)} does not answer: ${why}` };
  }
  try {
    const channel = await session
      .forwardTo(endpoint.host, endpointPort(endpoint))
      .catch((error: unknown) => error);
    if (channel instanceof Error)
      return { kind: 'closed', why: `${formatEndpoint(jump)} cannot reach it: ${channel.message}` };
    return await readBanner(() => channel as Duplex, timeoutSeconds);
  } finally {
    await session.close();
  }
}

function readBanner(open: () => Duplex, timeoutSeconds: number): Promise<PortAnswer> {
  return new Promise((resolve) => {
    const stream = open();
    let text = '';
    // A forwarded channel is open only once the jump host has connected to the port.
    let connected = !(stream instanceof net.Socket);
    let settled = false;
    const finish = (answer: PortAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.removeAllListeners('data');
      stream.destroy();
      resolve(answer);
    };
    const timer = setTimeout(
      () =>
        finish(
          connected ? { kind: 'silent' } : { kind: 'closed', why: `no answer within ${timeoutSeconds} s` },
        ),
      timeoutSeconds * 1000,
    );
    stream.on('connect', () => (connected = true));
    stream.on('data', (data: Buffer) => {
      text += data.toString('latin1');
      const line = /^SSH-[^\r\n]*/m.exec(text)?.[0];
      if (line) finish({ kind: 'banner', banner: line });
    });
    stream.on('error', (error: NodeJS.ErrnoException) =>
      finish(connected ? { kind: 'silent' } : { kind: 'closed', why: error.code ?? error.message }),
    );
    stream.on('close', () => finish(connected ? { kind: 'silent' } : { kind: 'closed', why: 'closed' }));
  });
}
