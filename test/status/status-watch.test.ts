import net from 'node:net';
import path from 'node:path';
import test from 'ava';
import { watchFrame } from '../../src/cli/status-view.ts';
import { cliOutput, runScriptCli } from '../helpers/bake-cli.ts';
import { makeClientKey } from '../helpers/sshd.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * `status --watch`: each refresh reaches the hosts again, so a change between two refreshes shows;
 * Ctrl-C ends it with 130. pi1 is a closed port on loopback (down), then a port that accepts and
 * says nothing (no SSH: a wedged machine).
 */

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('--watch refreshes until Ctrl-C: a host that goes from down to wedged is shown as it changes', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const key = await makeClientKey(temp.path);
  const [nodePort, imagerPort] = [await freePort(), await freePort()];
  const labFile = await writeTestLab(path.join(temp.path, 'lab.yaml'), {
    share: undefined,
    ssh: { user: 'root', identity: key.privateKeyFile, known_hosts: path.join(temp.path, 'known_hosts') },
    hosts: [
      {
        name: 'pi1',
        recipe: 'node',
        ssh: { address: '127.0.0.1', port: nodePort },
        imager: { address: '127.0.0.1', port: imagerPort },
      },
    ],
  });

  let stdout = '';
  let wedged: net.Server | undefined;
  t.teardown(() => wedged?.close());
  const seen = (pattern: RegExp): boolean => pattern.test(stdout);
  const run = runScriptCli('status', ['--lab', labFile, '--watch', '1', '--timeout', '1'], {
    timeoutMs: 60_000,
    env: isolatedSshEnv(path.join(temp.path, 'home')),
    onSpawn: (pid) => {
      const poll = setInterval(() => {
        if (!wedged && seen(/^pi1 +down /m)) {
          wedged = net.createServer(() => undefined);
          wedged.listen(nodePort, '127.0.0.1');
        }
        if (seen(/^pi1 +no SSH /m)) {
          clearInterval(poll);
          process.kill(pid, 'SIGINT');
        }
      }, 100);
    },
    onStdout: (text) => (stdout += text),
  });
  const result = await run;
  t.is(result.exitCode, 130, cliOutput(result));
  const frames = result.stdout.split(/^--- status at \d\d:\d\d:\d\d\n/m).slice(1);
  t.true(frames.length >= 2, cliOutput(result));
  t.regex(frames[0] ?? '', /^pi1 +down /m, 'the first refresh: nothing listens');
  t.regex(frames.at(-1) ?? '', /^pi1 +no SSH /m, 'a later refresh: the port accepts and says nothing');
  t.false(result.stdout.includes('\u001B'), 'no control codes into a pipe');
  t.regex(result.stderr, /status changes nothing/);
});

test('--watch on a terminal redraws in place: each frame clears the screen and says when it was read', (t) => {
  const at = new Date(2026, 11, 5, 7, 3, 9);
  t.is(
    watchFrame('table\n', at, 10, true),
    '\u001B[2J\u001B[Hstatus at 07:03:09, every 10 s (Ctrl-C stops)\ntable\n',
  );
  t.is(watchFrame('table\n', at, 10, false), '--- status at 07:03:09\ntable\n');
});

test('--watch and --json do not go together', async (t) => {
  const result = await runScriptCli('status', ['--watch', '5', '--json']);
  t.is(result.exitCode, 2, cliOutput(result));
  t.regex(result.stderr, /--watch and --json do not go together/);
});
