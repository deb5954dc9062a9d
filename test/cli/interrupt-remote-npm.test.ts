import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { makeSampleDisk } from '../../src/sample/make-sample-disk.ts';
import { makeNpmProject, npmOutput, runNpm } from '../helpers/npm-project.ts';
import { killGroup } from '../helpers/spawn-tool.ts';
import { makeClientKey } from '../helpers/sshd.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * Rollback and deploy through `npm run`, stopped while they wait on a host: exit 130 and their own
 * words on what was left. The "hosts" are one TCP server on loopback that accepts and never answers
 * (an SSH server that hangs), so each command is certainly under way when the signal comes; no
 * traffic leaves loopback. The share is a local directory with pi1 published to it.
 */

/** Far longer than an interrupted command may take to stop. */
const CONNECT_TIMEOUT_MS = 120_000;
const temps: TempDir[] = [];
const sockets: net.Socket[] = [];
const silent = net.createServer((socket) => sockets.push(socket));

test.after.always(async () => {
  for (const socket of sockets) socket.destroy();
  silent.close();
  for (const temp of temps) await temp.remove();
});

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

interface Setup {
  readonly project: string;
  readonly lab: string;
  readonly port: number;
}

let setup: Promise<Setup> | undefined;

function published(): Promise<Setup> {
  setup ??= (async () => {
    const dir = await tempDir();
    const project = await makeNpmProject(path.join(dir, 'project'));
    const disk = await makeSampleDisk({ path: path.join(dir, 'disk.img'), firstBoot: 'firstrun' });
    for (const args of [
      ['import', '--', disk.path],
      ['bake', '--', 'pi1'],
    ]) {
      const result = await runNpm(project, ['-s', ...args]).result;
      if (result.exitCode !== 0) throw new Error(`${args[0] ?? ''} failed: ${npmOutput(result)}`);
    }
    const share = path.join(dir, 'share');
    await mkdir(share);
    const publish = await runNpm(project, ['-s', 'publish', '--', 'pi1', '--to', share]).result;
    if (publish.exitCode !== 0) throw new Error(`publish failed: ${npmOutput(publish)}`);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const key = await makeClientKey(dir);
    const knownHosts = path.join(dir, 'known_hosts');
    await writeFile(knownHosts, '');
    const hang = { address: '127.0.0.1', port };
    const lab = await writeTestLab(path.join(dir, 'lab.yaml'), {
      share: { target: share, image_root: '/home/partimag', keep: 3 },
      ssh: {
        user: 'root',
        identity: key.privateKeyFile,
        known_hosts: knownHosts,
        connect_timeout: CONNECT_TIMEOUT_MS / 1000,
      },
      hosts: [
        { name: 'pi0', recipe: 'router', ssh: hang },
        {
          name: 'pi1',
          recipe: 'node',
          mac: 'd8:3a:dd:f7:78:e0',
          ip: '192.168.87.101',
          ssh: hang,
          imager: hang,
        },
      ],
    });
    return { project, lab, port };
  })();
  return setup;
}

/** Resolves once the command has connected to the hanging host, plus a moment. */
async function connected(): Promise<void> {
  const before = sockets.length;
  const deadline = Date.now() + 60_000;
  while (sockets.length === before && Date.now() < deadline) await sleep(25);
  await sleep(500);
}

test.serial(
  'deploy through npm, Ctrl-C while it locates the host: exit 130 at once, says what was left',
  async (t) => {
    const { project, lab } = await published();
    const run = runNpm(project, ['-s', 'deploy', '--', 'pi1', '--yes', '--lab', lab]);
    await connected();
    killGroup(run.pid, 'SIGINT');
    const signalled = performance.now();
    const result = await run.result;
    t.true(performance.now() - signalled < CONNECT_TIMEOUT_MS / 2, 'it did not wait for the connect timeout');
    t.is(result.exitCode, 130, npmOutput(result));
    t.regex(result.stderr, /Interrupted \(SIGINT\): a host not yet sent to its imager runs as it did/);
    t.regex(result.stderr, /Deploy again/);
  },
);

test.serial(
  'rollback through npm, SIGTERM while it connects to the share: exit 130 at once, says the current version is kept',
  async (t) => {
    const { project, lab, port } = await published();
    const run = runNpm(project, [
      '-s',
      'rollback',
      '--',
      'pi1',
      '--lab',
      lab,
      '--share',
      `sftp://root@127.0.0.1:${port}/srv/os_images`,
    ]);
    await connected();
    process.kill(run.pid, 'SIGTERM');
    const signalled = performance.now();
    const result = await run.result;
    t.true(performance.now() - signalled < CONNECT_TIMEOUT_MS / 2, 'it did not wait for the connect timeout');
    t.is(result.exitCode, 130, npmOutput(result));
    t.regex(result.stderr, /Interrupted \(SIGTERM\): the host's current version is the one it had/);
  },
);
