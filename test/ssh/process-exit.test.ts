import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { SshEndpoint, SshSettings } from '../../src/ssh/ssh-endpoint.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeClientKey } from '../helpers/sshd.ts';
import { spawnTool } from '../helpers/spawn-tool.ts';
import { type LoopbackServer, startLoopbackServer } from './loopback-server.ts';

/*
 * Nothing dangles: a process that connected (and succeeded, failed or lost its connection) ends on
 * its own, without process.exit. A socket, timer or channel left open would keep it running until
 * the kill after EXIT_LIMIT_MS, which the test reports.
 */

const rootTest = skipUnlessRoot(test);
const SCRIPT = path.join(import.meta.dirname, 'connect-and-exit.ts');
const EXIT_LIMIT_MS = 90_000;

interface Outcome {
  readonly ok?: string;
  readonly error?: string;
}

async function runScript(
  t: ExecutionContext,
  order: { endpoint: SshEndpoint; settings: SshSettings; mode: 'run' | 'hold' },
  onStderr?: (text: string) => void,
): Promise<Outcome> {
  const result = await spawnTool(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(order)], {
    timeoutMs: EXIT_LIMIT_MS,
    ...(onStderr ? { onStderr } : {}),
  });
  t.false(result.timedOut, `the process did not end by itself: something kept it alive\n${result.stderr}`);
  t.is(result.exitCode, 0, result.stderr);
  return JSON.parse(result.stdout.toString('utf8') || '{}') as Outcome;
}

async function withServer(work: (lab: LoopbackServer) => Promise<void>): Promise<void> {
  const lab = await startLoopbackServer();
  try {
    await work(lab);
  } finally {
    await lab.release();
  }
}

rootTest('after exec, sftp and close, the process ends by itself', async (t) => {
  await withServer(async (lab) => {
    t.deepEqual(await runScript(t, { endpoint: lab.endpoint, settings: lab.settings, mode: 'run' }), {
      ok: 'ran\n',
    });
  });
});

rootTest('after a refused host key or a refused login, the process ends by itself', async (t) => {
  await withServer(async (lab) => {
    const unknownHost = { ...lab.settings, knownHostsFile: path.join(lab.temp.path, 'none') };
    const refusedHost = await runScript(t, { endpoint: lab.endpoint, settings: unknownHost, mode: 'run' });
    t.regex(refusedHost.error ?? '', /is not known/);
    const wrong = await makeClientKey(lab.temp.path, { name: 'id_wrong' });
    const wrongKey = { ...lab.settings, identityFiles: [wrong.privateKeyFile] };
    const refusedLogin = await runScript(t, { endpoint: lab.endpoint, settings: wrongKey, mode: 'run' });
    t.regex(refusedLogin.error ?? '', /cannot log in/);
  });
});

rootTest('after the connection is lost mid-command, the process ends by itself', async (t) => {
  await withServer(async (lab) => {
    let killed = false;
    const outcome = await runScript(
      t,
      { endpoint: lab.endpoint, settings: lab.settings, mode: 'hold' },
      (text) => {
        if (!killed && text.includes('started')) {
          killed = true;
          void lab.server.killSessions();
        }
      },
    );
    t.true(killed);
    t.regex(outcome.error ?? '', /^connection to root@127\.0\.0\.1:\d+ lost while running sh -c/);
  });
});
