/*
 * Run as its own process by process-exit.test.ts: connects as told, prints what happened as JSON
 * and then simply returns. It never calls process.exit, so it only ends if nothing (socket, timer,
 * channel) was left holding the event loop.
 */
import { describeError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import type { SshEndpoint, SshSettings } from '../../src/ssh/ssh-endpoint.ts';

interface Order {
  readonly endpoint: SshEndpoint;
  readonly settings: SshSettings;
  /** 'run': echo, sftp, close. 'hold': print "started" on stderr and run until the connection is lost. */
  readonly mode: 'run' | 'hold';
}

const order = JSON.parse(process.argv[2] ?? '{}') as Order;
try {
  const session = await connectSsh(order.endpoint, order.settings);
  try {
    if (order.mode === 'run') {
      const result = await session.exec(command('echo', ['ran']));
      await session.sftp();
      process.stdout.write(JSON.stringify({ ok: result.stdout }));
    } else {
      await session.exec(command('sh', ['-c', 'echo started >&2; sleep 120']), {
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      process.stdout.write(JSON.stringify({ ok: 'finished' }));
    }
  } finally {
    // Closed on purpose only in 'run' mode: a lost connection must release everything by itself.
    if (order.mode === 'run') await session.close();
  }
} catch (error) {
  process.stdout.write(JSON.stringify({ error: describeError(error) }));
}
