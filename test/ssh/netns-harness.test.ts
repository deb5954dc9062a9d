import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { makeNetLab } from '../helpers/netns.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { runTool, spawnTool } from '../helpers/spawn-tool.ts';

/*
 * The namespace harness itself: it removes all it made, and what a dead test process left behind
 * (namespace, veth, unreachable route, subnet lock) is reaped by the next process that links.
 */

const rootTest = skipUnlessRoot(test.serial);

async function ip(args: readonly string[]): Promise<string> {
  return (await runTool('ip', args)).toString('utf8');
}

async function deadPid(): Promise<number> {
  return (await spawnTool('true', [])).pid;
}

const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );

rootTest('teardown removes namespaces, veths, routes and subnet locks', async (t) => {
  const net = makeNetLab();
  try {
    const [a, b] = [await net.namespace(), await net.namespace()];
    const outer = await net.link('host', a);
    const inner = await net.link(a, b);
    t.regex(outer.subnet, /^10\.213\.\d+\.\d+\/30$/);
    t.notDeepEqual(outer.subnet, inner.subnet);
    t.true((await ip(['netns', 'list'])).includes(a.name));
    t.true((await ip(['-4', 'route', 'show', 'type', 'unreachable'])).includes(inner.subnet));
    t.false((await ip(['-4', 'route', 'show', 'type', 'unreachable'])).includes(outer.subnet));
    // Each namespace routes only to its own links (reachability itself is shown by the jump tests).
    t.regex(
      await ip(['-n', b.name, 'route', 'get', inner.leftAddress]),
      new RegExp(`dev pl${process.pid}v\\d+b`),
    );
    const noRoute = await spawnTool('ip', ['-n', b.name, 'route', 'get', outer.leftAddress]);
    t.not(noRoute.exitCode, 0, 'the target namespace has no route to the host');
    const hostRoute = await ip(['route', 'get', inner.rightAddress]).catch((error: unknown) => String(error));
    t.regex(hostRoute, /unreachable|No route to host/, 'the host has no route to the inner link');
  } finally {
    await net.teardown();
  }
  t.false((await ip(['netns', 'list'])).includes(`pl${process.pid}n`));
  t.false((await ip(['-o', 'link', 'show'])).includes(`pl${process.pid}v`));
  t.notRegex(await ip(['-4', 'route', 'show', 'type', 'unreachable']), /10\.213\./);
});

rootTest('leftovers of a dead test process are reaped by the next link()', async (t) => {
  const pid = await deadPid();
  const [ns, veth] = [`pl${pid}n1`, `pl${pid}v2a`];
  const subnet = '10.213.255.252/30';
  const lock = path.join(os.tmpdir(), 'pi-lab-locks', 'netns-block-16383');
  await ip(['netns', 'add', ns]);
  await ip(['link', 'add', veth, 'type', 'veth', 'peer', 'name', `pl${pid}v2b`]);
  await ip(['route', 'replace', 'unreachable', subnet]);
  await mkdir(lock, { recursive: true });
  await writeFile(path.join(lock, 'pid'), String(pid));
  const net = makeNetLab();
  try {
    await net.link('host', await net.namespace());
    t.false((await ip(['netns', 'list'])).includes(ns));
    t.false((await ip(['-o', 'link', 'show'])).includes(veth));
    t.false((await ip(['-4', 'route', 'show', 'type', 'unreachable'])).includes(subnet));
    t.false(await exists(lock));
  } finally {
    await net.teardown();
    await ip(['netns', 'del', ns]).catch(() => undefined);
    await ip(['link', 'del', veth]).catch(() => undefined);
    await ip(['route', 'del', 'unreachable', subnet]).catch(() => undefined);
  }
});
