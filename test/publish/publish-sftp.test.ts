import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { cliOutput, type CliResult, runScriptCli } from '../helpers/bake-cli.ts';
import { type BakedLab, bakeNodeVariant, bakeSampleLab } from '../helpers/baked-images.ts';
import { contentOf, snapshotTree } from '../helpers/output-tree.ts';
import { makeNetLab } from '../helpers/netns.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { currentImage, inodeOf, shareInventory } from '../helpers/share-check.ts';
import { type ClientKey, knownHostsFor, makeClientKey, type SshdServer, startSshd } from '../helpers/sshd.ts';
import { runTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * Publish to data1 over SFTP: a real OpenSSH server on loopback (key login, known_hosts checked)
 * serving a share directory of this machine. Root only: sshd needs it.
 */

const rootTest = skipUnlessRoot(test);
const HOSTS = ['pi0', 'pi1', 'pi2', 'pi3'];
const temps: TempDir[] = [];
const servers: SshdServer[] = [];

async function tempDir(): Promise<string> {
  const temp = await makeTempDir();
  temps.push(temp);
  return temp.path;
}

test.after.always(async () => {
  for (const server of servers) await server.stop();
  for (const temp of temps) await temp.remove();
});

interface Fixture {
  readonly lab: BakedLab;
  readonly variant: string;
  readonly key: ClientKey;
  readonly server: SshdServer;
  readonly home: string;
}

let fixture: Promise<Fixture> | undefined;

/** One baked lab (and a node variant), one client key and one sshd for the whole file. */
function shared(): Promise<Fixture> {
  fixture ??= (async () => {
    const dir = await tempDir();
    const lab = await bakeSampleLab(dir);
    const variant = path.join(dir, 'images-variant');
    await bakeNodeVariant(lab, path.join(dir, 'project'), variant, 'dtoverlay=disable-bt');
    const key = await makeClientKey(dir);
    const server = await startSshd({ authorizedKeys: key.publicKey });
    servers.push(server);
    const home = path.join(dir, 'home');
    await mkdir(home);
    return { lab, variant, key, server, home };
  })();
  return fixture;
}

interface Share {
  readonly dir: string;
  readonly labFile: string;
}

/** A new share directory and a lab file whose share.target is that directory over SFTP. */
async function newShare(f: Fixture, knownHosts?: string): Promise<Share> {
  const dir = await tempDir();
  const shareDir = path.join(dir, 'os_images');
  await mkdir(shareDir);
  const knownHostsFile = knownHosts ?? (await knownHostsFor(path.join(dir, 'known_hosts'), f.server));
  const labFile = await writeTestLab(path.join(dir, 'lab.yaml'), {
    share: { target: `sftp://root@${f.server.host}:${f.server.port}${shareDir}`, keep: 3 },
    ssh: { user: 'root', identity: f.key.privateKeyFile, known_hosts: knownHostsFile, connect_timeout: 30 },
  });
  return { dir: shareDir, labFile };
}

function publish(f: Fixture, share: Share, from: string, extra: readonly string[] = []): Promise<CliResult> {
  return runScriptCli('publish', ['--lab', share.labFile, '--from', from, '--json', ...extra], {
    env: isolatedSshEnv(f.home),
  });
}

function parsed(result: CliResult): {
  ok: boolean;
  bytesSent: number;
  hosts: { host: string; status: string }[];
} {
  return JSON.parse(result.stdout) as {
    ok: boolean;
    bytesSent: number;
    hosts: { host: string; status: string }[];
  };
}

function statuses(result: CliResult): Record<string, string> {
  return Object.fromEntries(parsed(result).hosts.map((h) => [h.host, h.status]));
}

rootTest(
  'publish over SFTP: verified on the far side, root image stored once; unchanged re-publish sends nothing',
  async (t) => {
    const f = await shared();
    const share = await newShare(f);
    const first = await publish(f, share, f.lab.imagesDir);
    t.is(first.exitCode, 0, cliOutput(first));
    t.deepEqual(statuses(first), Object.fromEntries(HOSTS.map((h) => [h, 'published'])));
    for (const host of HOSTS) t.deepEqual((await currentImage(share.dir, host)).mismatches, [], host);
    const inodes = new Set(
      await Promise.all(['pi1', 'pi2', 'pi3'].map((h) => inodeOf(share.dir, h, 'sda2.ext4-ptcl-img.gz'))),
    );
    t.is(inodes.size, 1);
    t.true(f.server.log().includes('Accepted publickey for root'), 'logged in with the key');

    const before = contentOf(await snapshotTree(share.dir));
    const again = await publish(f, share, f.lab.imagesDir);
    t.is(again.exitCode, 0, cliOutput(again));
    t.deepEqual(statuses(again), Object.fromEntries(HOSTS.map((h) => [h, 'unchanged'])));
    t.is(parsed(again).bytesSent, 0);
    t.deepEqual(contentOf(await snapshotTree(share.dir)), before);
  },
);

rootTest('over SFTP: a new version, then rollback to the previous one', async (t) => {
  const f = await shared();
  const share = await newShare(f);
  t.is((await publish(f, share, f.lab.imagesDir)).exitCode, 0);
  const first = (await currentImage(share.dir, 'pi1')).version;
  const second = await publish(f, share, f.variant);
  t.is(second.exitCode, 0, cliOutput(second));
  t.deepEqual(statuses(second), { pi0: 'unchanged', pi1: 'published', pi2: 'published', pi3: 'published' });
  t.not((await currentImage(share.dir, 'pi1')).version, first);

  const back = await runScriptCli('rollback', ['pi1', '--lab', share.labFile], {
    env: isolatedSshEnv(f.home),
  });
  t.is(back.exitCode, 0, cliOutput(back));
  const current = await currentImage(share.dir, 'pi1');
  t.is(current.version, first);
  t.deepEqual(current.mismatches, []);

  const listing = await runScriptCli('images', ['--lab', share.labFile, '--from', f.variant, '--json'], {
    env: isolatedSshEnv(f.home),
  });
  t.is(listing.exitCode, 0, cliOutput(listing));
  const rows = (
    JSON.parse(listing.stdout) as {
      images: { host: string; where: string; state: string; version: string }[];
    }
  ).images;
  t.deepEqual(
    rows
      .filter((r) => r.host === 'pi1' && r.where === 'share' && r.state === 'current')
      .map((r) => r.version),
    [first],
  );
});

rootTest(
  'an unknown host key is refused with its fingerprint and the way to accept it; nothing is written',
  async (t) => {
    const f = await shared();
    const dir = await tempDir();
    const share = await newShare(f, path.join(dir, 'empty_known_hosts'));
    const result = await publish(f, share, f.lab.imagesDir);
    t.is(result.exitCode, 2, cliOutput(result));
    t.true(result.stderr.includes(f.server.hostKeyFingerprint), result.stderr);
    t.regex(result.stderr, /ssh-keyscan/);
    t.deepEqual(await shareInventory(share.dir), { objects: [], versions: {}, incoming: [] });
  },
);

rootTest(
  'a connection dropped mid-upload: clear error, previous version current; the next publish completes',
  async (t) => {
    // Its own server: killing every session must not cut the other tests' connections.
    const base = await shared();
    const server = await startSshd({ authorizedKeys: base.key.publicKey });
    t.teardown(() => server.stop());
    const f: Fixture = { ...base, server };
    const share = await newShare(f);
    t.is((await publish(f, share, f.lab.imagesDir)).exitCode, 0);
    const first = (await currentImage(share.dir, 'pi1')).version;

    let dropped = false;
    const result = await runScriptCli('publish', ['--lab', share.labFile, '--from', f.variant], {
      env: isolatedSshEnv(f.home),
      onStderr: (text) => {
        // The first file on its way: cut every SSH connection, as a dropped network would.
        if (!dropped && /uploading \d+ file/.test(text)) {
          dropped = true;
          void f.server.killSessions();
        }
      },
    });
    t.true(dropped, 'the upload was reached');
    t.not(result.exitCode, 0, cliOutput(result));
    t.regex(result.stderr, /connection to .* (was )?lost/i, cliOutput(result));
    const current = await currentImage(share.dir, 'pi1');
    t.is(current.version, first, 'the previous version stays current');
    t.deepEqual(current.mismatches, []);

    const again = await publish(f, share, f.variant);
    t.is(again.exitCode, 0, cliOutput(again));
    t.is(statuses(again).pi1, 'published');
    t.deepEqual((await shareInventory(share.dir)).incoming, [], 'leftovers cleaned');
  },
);

rootTest('a share too small for the new files is refused before anything is uploaded', async (t) => {
  const f = await shared();
  const share = await newShare(f);
  const image = path.join(await tempDir(), 'small.ext4');
  await runTool('truncate', ['-s', '24M', image]);
  await runTool('mkfs.ext4', ['-q', '-F', image]);
  await runTool('mount', ['-o', 'loop', image, share.dir]);
  t.teardown(() => runTool('umount', [share.dir]).then(() => undefined));
  const before = contentOf(await snapshotTree(share.dir));

  const result = await publish(f, share, f.lab.imagesDir);
  t.is(result.exitCode, 2, cliOutput(result));
  t.regex(result.stderr, /is too full: this publish needs .* of new files .* are free/);
  t.regex(result.stderr, /Nothing was uploaded; the current images are untouched/);
  const after = contentOf(await snapshotTree(share.dir));
  t.deepEqual(
    Object.keys(after).filter((name) => !name.startsWith('.pi-lab') && name !== 'lost+found'),
    Object.keys(before).filter((name) => !name.startsWith('.pi-lab') && name !== 'lost+found'),
  );
  t.deepEqual((await shareInventory(share.dir)).objects, [], 'no file stored');
});

/** The host-side interface holding `address` (a veth of a NetLab link). */
async function interfaceWith(address: string): Promise<string> {
  const listing = (await runTool('ip', ['-o', '-4', 'addr', 'show'])).toString();
  const line = listing.split('\n').find((l) => l.includes(` ${address}/`));
  const name = line?.split(/\s+/)[1];
  if (!name) throw new Error(`no interface holds ${address}`);
  return name;
}

rootTest(
  'a publish killed mid-transfer leaves the previous version current; the next one cleans up',
  async (t) => {
    const f = await shared();
    const net = makeNetLab();
    t.teardown(() => net.teardown());
    const data1 = await net.namespace();
    const link = await net.link('host', data1);
    // A slow link, so that the kill lands while a file is on its way.
    await runTool('tc', [
      'qdisc',
      'add',
      'dev',
      await interfaceWith(link.leftAddress),
      'root',
      'tbf',
      'rate',
      '4mbit',
      'burst',
      '32kbit',
      'latency',
      '400ms',
    ]);
    const server = await startSshd({
      netns: data1,
      listenAddress: link.rightAddress,
      authorizedKeys: f.key.publicKey,
    });
    t.teardown(() => server.stop());
    const dir = await tempDir();
    const shareDir = path.join(dir, 'os_images');
    await mkdir(shareDir);
    const labFile = await writeTestLab(path.join(dir, 'lab.yaml'), {
      share: { target: `sftp://root@${server.host}:${server.port}${shareDir}` },
      ssh: {
        user: 'root',
        identity: f.key.privateKeyFile,
        known_hosts: await knownHostsFor(path.join(dir, 'known_hosts'), server),
        connect_timeout: 30,
      },
    });
    const share: Share = { dir: shareDir, labFile };
    // The first version goes straight into the directory: only the second crosses the slow link.
    const first = await runScriptCli('publish', [
      '--lab',
      labFile,
      '--from',
      f.lab.imagesDir,
      '--to',
      shareDir,
    ]);
    t.is(first.exitCode, 0, cliOutput(first));
    const previous = (await currentImage(shareDir, 'pi1')).version;

    const uploading = async (): Promise<boolean> => {
      const incoming = path.join(shareDir, '.pi-lab/incoming');
      for (const run of await readdir(incoming).catch(() => [] as string[]))
        if ((await readdir(path.join(incoming, run, 'objects')).catch(() => [] as string[])).length > 0)
          return true;
      return false;
    };
    let killed = false;
    const result = await runScriptCli('publish', ['--lab', labFile, '--from', f.variant], {
      env: isolatedSshEnv(f.home),
      onSpawn: (pid) => {
        void (async () => {
          for (let i = 0; i < 600 && !killed; i++) {
            if (await uploading()) {
              killed = true;
              process.kill(-pid, 'SIGKILL');
              return;
            }
            await sleep(50);
          }
        })();
      },
    });
    t.true(killed, cliOutput(result));
    t.is(result.signal, 'SIGKILL');
    const current = await currentImage(shareDir, 'pi1');
    t.is(current.version, previous, 'the previous version is still current');
    t.deepEqual(current.mismatches, [], 'and whole');
    t.true((await shareInventory(shareDir)).incoming.length > 0, 'the killed run left its upload area');

    const again = await publish(f, share, f.variant);
    t.is(again.exitCode, 0, cliOutput(again));
    t.is(
      (JSON.parse(again.stdout) as { leftoversRemoved: number }).leftoversRemoved,
      1,
      'the leftovers removed',
    );
    t.is(statuses(again).pi1, 'published');
    t.deepEqual((await currentImage(shareDir, 'pi1')).mismatches, []);
    t.deepEqual((await shareInventory(shareDir)).incoming, []);
  },
);
