import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { ToolError, UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import type { SshSession } from '../../src/ssh/ssh-session.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { eventually, type LoopbackServer, startLoopbackServer, within } from './loopback-server.ts';

/*
 * Commands, SFTP and lost connections against a real sshd on loopback (root: sshd needs it). One
 * server per file for the commands that leave it intact; the tests that kill connections or the
 * server start their own.
 */

const rootTest = skipUnlessRoot(test);
const GUARD_SECONDS = 60;

let shared: Promise<{ lab: LoopbackServer; session: SshSession }> | undefined;

function sharedSession(): Promise<{ lab: LoopbackServer; session: SshSession }> {
  shared ??= (async () => {
    const lab = await startLoopbackServer();
    return { lab, session: await connectSsh(lab.endpoint, lab.settings) };
  })();
  return shared;
}

test.after.always(async () => {
  if (!shared) return;
  const { lab, session } = await shared;
  await session.close();
  await lab.release();
});

async function withOwnServer(
  work: (lab: LoopbackServer, session: SshSession) => Promise<void>,
): Promise<void> {
  const lab = await startLoopbackServer();
  try {
    const session = await connectSsh(lab.endpoint, lab.settings);
    try {
      await work(lab, session);
    } finally {
      await session.close();
    }
  } finally {
    await lab.release();
  }
}

rootTest('exec returns stdout, stderr and the exit code; a non-zero exit is a result', async (t) => {
  const { session } = await sharedSession();
  const result = await session.exec(command('sh', ['-c', 'echo out; echo err >&2; exit 3']));
  t.deepEqual(result, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  t.deepEqual(await session.exec(command('true', [])), { exitCode: 0, stdout: '', stderr: '' });
});

rootTest('values with quotes, $, backticks, ; and newlines reach the remote program literally', async (t) => {
  const { session } = await sharedSession();
  const values = [
    `it's $HOME and "\${USER}"`,
    '`id -u`; echo pwned && rm -rf /nonexistent',
    'two\nlines',
    '',
    '*',
    '-n',
  ];
  const result = await session.exec(command('printf', ['[%s]\n', ...values]));
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout, values.map((value) => `[${value}]\n`).join(''));
});

rootTest('env and cwd are quoted too', async (t) => {
  const { lab, session } = await sharedSession();
  const dir = path.join(lab.temp.path, "dir with 'space'");
  await mkdir(dir);
  const result = await session.exec(
    command('sh', ['-c', 'printf "%s|" "$GREETING"; pwd'], {
      env: { GREETING: `hi 'there' $USER` },
      cwd: dir,
    }),
  );
  t.is(result.stdout, `hi 'there' $USER|${dir}\n`);
});

rootTest('stdin is written and closed; without it the command sees end of input at once', async (t) => {
  const { session } = await sharedSession();
  t.is((await session.exec(command('cat', []), { stdin: 'line 1\nline 2\n' })).stdout, 'line 1\nline 2\n');
  t.is(
    (await session.exec(command('wc', ['-c']), { stdin: Buffer.alloc(100_000, 1) })).stdout.trim(),
    '100000',
  );
  t.is((await within(GUARD_SECONDS, 'cat without stdin', session.exec(command('cat', [])))).stdout, '');
});

rootTest('output is streamed to the callbacks as it comes', async (t) => {
  const { session } = await sharedSession();
  const out: string[] = [];
  const err: string[] = [];
  const result = await session.exec(
    command('sh', ['-c', 'for i in 1 2 3; do echo "o$i"; echo "e$i" >&2; sleep 0.1; done']),
    { onStdout: (chunk) => out.push(chunk), onStderr: (chunk) => err.push(chunk) },
  );
  t.is(out.join(''), 'o1\no2\no3\n');
  t.is(err.join(''), 'e1\ne2\ne3\n');
  t.is(result.stdout, out.join(''));
  t.true(out.length >= 2, 'more than one chunk: streamed, not delivered at the end');
});

rootTest('a command killed by a signal reports the signal and no exit code', async (t) => {
  const { session } = await sharedSession();
  const result = await session.exec(command('sh', ['-c', 'kill -TERM $$']));
  t.is(result.exitCode, null);
  t.is(result.signal, 'SIGTERM');
});

rootTest('run() turns a failure into a ToolError with the command, status and output tail', async (t) => {
  const { session } = await sharedSession();
  t.is((await session.run(command('echo', ['fine']))).stdout, 'fine\n');
  const error = await t.throwsAsync(session.run(command('sh', ['-c', 'echo "no such thing" >&2; exit 4'])), {
    instanceOf: ToolError,
  });
  t.is(error.exitStatus, 'exit 4');
  t.is(error.outputTail, 'no such thing');
  t.is(error.command, `ssh ${session.describe()} sh -c 'echo "no such thing" >&2; exit 4'`);
  t.regex(error.message, /^sh failed on root@127\.0\.0\.1:\d+ \(exit 4\)$/);
});

// Own servers: sshd keeps counting the channel of a command it could not kill (see remote-exec.ts).
rootTest('a timeout rejects, naming the command and the timeout; the session stays usable', async (t) => {
  await withOwnServer(async (_lab, session) => {
    const error = await within(
      GUARD_SECONDS,
      'the timed-out command',
      t.throwsAsync(session.exec(command('sh', ['-c', 'echo started; sleep 120']), { timeoutSeconds: 2 }), {
        instanceOf: ToolError,
      }),
    );
    t.regex(error.message, /^sh -c 'echo started; sleep 120' on root@127\.0\.0\.1:\d+ timed out after 2 s$/);
    t.is(error.exitStatus, 'timed out after 2 s');
    t.is(error.outputTail, 'started');
    t.is((await session.exec(command('echo', ['still here']))).stdout, 'still here\n');
  });
});

rootTest('an abort signal stops the command and rejects with its reason', async (t) => {
  await withOwnServer(async (_lab, session) => {
    const controller = new AbortController();
    const running = session.exec(command('sleep', ['120']), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 500);
    await within(GUARD_SECONDS, 'the aborted command', t.throwsAsync(running, { message: 'stop now' }));
    const already = AbortSignal.abort();
    await t.throwsAsync(session.exec(command('true', []), { signal: already }), { message: /was aborted/ });
  });
});

rootTest(
  'sftp(): a file written is read back, here and on the far side; the channel is reused',
  async (t) => {
    const { lab, session } = await sharedSession();
    const sftp = await session.sftp();
    t.is(await session.sftp(), sftp);
    const file = path.join(lab.temp.path, 'through-sftp.bin');
    const content = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(file, content, (error) => (error ? reject(error) : resolve())),
    );
    const back = await new Promise<Buffer>((resolve, reject) =>
      sftp.readFile(file, (error, data) => (error ? reject(error) : resolve(data))),
    );
    t.true(back.equals(content));
    t.true((await readFile(file)).equals(content), 'the file really is on the server side');
  },
);

rootTest('describe() names the endpoint; close() is idempotent and settles closed', async (t) => {
  await withOwnServer(async (lab, session) => {
    t.is(session.describe(), `root@127.0.0.1:${lab.server.port}`);
    t.false(session.isClosed);
    await Promise.all([session.close(), session.close()]);
    await within(GUARD_SECONDS, 'closed', session.closed);
    t.true(session.isClosed);
    await session.close();
    const error = await t.throwsAsync(session.exec(command('echo', ['x'])), { instanceOf: UserError });
    t.regex(error.message, /^cannot run echo x: the connection to root@127\.0\.0\.1:\d+ is closed$/);
  });
});

rootTest('a connection killed mid-command rejects with "connection … lost while running …"', async (t) => {
  await withOwnServer(async (lab, session) => {
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((resolve) => (started = resolve));
    const running = session.exec(command('sh', ['-c', 'echo started; sleep 120']), {
      onStdout: (chunk) => chunk.includes('started') && started(),
    });
    await within(GUARD_SECONDS, 'the command start', isStarted);
    await lab.server.killSessions();
    const error = await within(
      GUARD_SECONDS,
      'the lost command',
      t.throwsAsync(running, { instanceOf: UserError }),
    );
    t.is(
      error.message,
      `connection to root@127.0.0.1:${lab.server.port} lost while running sh -c 'echo started; sleep 120'`,
    );
    await within(GUARD_SECONDS, 'closed', session.closed);
    t.true(session.isClosed);
    t.true(
      await eventually(30, () => /Server listening/.test(lab.server.log())),
      'the listener itself was left alone',
    );
  });
});

rootTest('stopping sshd mid-command rejects every running command and SFTP opens fail cleanly', async (t) => {
  await withOwnServer(async (lab, session) => {
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((resolve) => (started = resolve));
    const first = session.exec(command('sh', ['-c', 'echo started; sleep 120']), {
      onStdout: () => started(),
    });
    const second = session.exec(command('sleep', ['120']));
    await within(GUARD_SECONDS, 'the command start', isStarted);
    await lab.server.stop();
    for (const running of [first, second]) {
      const error = await within(
        GUARD_SECONDS,
        'the lost command',
        t.throwsAsync(running, { instanceOf: UserError }),
      );
      t.regex(error.message, /^connection to root@127\.0\.0\.1:\d+ lost while running /);
    }
    await t.throwsAsync(session.sftp(), { instanceOf: UserError, message: /is closed/ });
    t.deepEqual(lab.server.processes(), [], 'no sshd or session command is left running');
  });
});
