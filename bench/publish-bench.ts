import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeNetLab } from '../test/helpers/netns.ts';
import { knownHostsFor, makeClientKey, startSshd } from '../test/helpers/sshd.ts';
import { parse, stringify } from 'yaml';
import { median } from './report.ts';
import { benchHosts, benchPaths, ensureCleanImage, writeBenchLab } from './setup.ts';

/*
 * Publishing 1 router + 10 nodes over SFTP to an sshd in a network namespace (a stand-in for data1
 * on the lab network), against scp -r and rsync of the same image directories in the same run.
 * Bytes are counted on the wire: the transmit counter of the host side of the namespace's link.
 */

const run = promisify(execFile);

export const PUBLISH_TARGETS = { bytesOfIdeal: 1.2, rootThroughputOfScp: 0.8 } as const;

interface Measured {
  readonly seconds: number;
  readonly wireBytes: number;
}

export interface PublishBenchReport {
  readonly runs: number;
  readonly sizes: {
    readonly rootImage: number;
    readonly bootImages: number;
    readonly ideal: number;
    readonly allFiles: number;
  };
  readonly medians: Readonly<Record<string, Measured>>;
  readonly rootThroughput: { readonly ours: number; readonly scp: number };
  readonly perRun: readonly Readonly<Record<string, Measured>>[];
  readonly targets: readonly { name: string; value: string; limit: string; pass: boolean }[];
}

export async function runPublishBench(options: {
  readonly projectDir: string;
  readonly runs: number;
  readonly log: (line: string) => void;
}): Promise<PublishBenchReport> {
  const { projectDir, log } = options;
  if (process.getuid?.() !== 0)
    throw new Error('the publish bench needs root (a network namespace and an sshd)');
  for (const tool of ['scp', 'rsync', 'sshd']) {
    await run('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`]).catch(() => {
      throw new Error(
        `the publish bench needs ${tool}: apt-get install -y openssh-client openssh-server rsync`,
      );
    });
  }
  const paths = benchPaths(projectDir);
  await ensureCleanImage(projectDir, log);
  const benchLab = await writeBenchLab(projectDir);
  const images = path.join(paths.benchDir, 'publish-src');
  log('baking the bench lab into .bench/publish-src (incremental)');
  await run(
    process.execPath,
    ['--import', 'tsx', 'scripts/bake.ts', '--lab', benchLab, '--out', images, '--json'],
    {
      cwd: projectDir,
      maxBuffer: 1 << 26,
    },
  );
  const { router, nodes } = benchHosts();
  const hosts = [router, ...nodes];
  const sizes = await imageSizes(images, hosts);
  log(
    `root image ${mb(sizes.rootImage)}, ${hosts.length} boot images ${mb(sizes.bootImages)}, all files ${mb(sizes.allFiles)}`,
  );

  const work = path.join(paths.benchDir, 'publish-work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const net = makeNetLab();
  const key = await makeClientKey(work);
  try {
    const data1 = await net.namespace();
    const link = await net.link('host', data1);
    const device = await interfaceWith(link.leftAddress);
    const server = await startSshd({
      netns: data1,
      listenAddress: link.rightAddress,
      authorizedKeys: key.publicKey,
    });
    try {
      const knownHosts = await knownHostsFor(path.join(work, 'known_hosts'), server);
      const remote = `root@${server.host}`;
      const ssh = [
        '-i',
        key.privateKeyFile,
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
      ];
      const shareDir = path.join(work, 'share');
      const publishLab = path.join(work, 'lab.yaml');
      await writeBenchPublishLab(
        benchLab,
        publishLab,
        `sftp://${remote}:${server.port}${shareDir}`,
        key.privateKeyFile,
        knownHosts,
      );
      const measure = async (
        what: string,
        target: string,
        command: () => Promise<unknown>,
      ): Promise<Measured> => {
        await rm(target, { recursive: true, force: true });
        await mkdir(target, { recursive: true });
        await run('sync');
        const before = await txBytes(device);
        const started = performance.now();
        await command();
        const measured = {
          seconds: (performance.now() - started) / 1000,
          wireBytes: (await txBytes(device)) - before,
        };
        log(`    ${what}: ${measured.seconds.toFixed(2)} s, ${mb(measured.wireBytes)} on the wire`);
        return measured;
      };
      const perRun: Record<string, Measured>[] = [];
      const ourRoot: number[] = [];
      for (let index = 1; index <= options.runs; index++) {
        log(`run ${index}/${options.runs}`);
        const results: Record<string, Measured> = {};
        let transfers: { file: string; fileBytes: number; bytes: number; seconds: number }[] = [];
        results.publish = await measure('npm run publish (sftp)', shareDir, async () => {
          const { stdout } = await run(
            process.execPath,
            ['--import', 'tsx', 'scripts/publish.ts', '--lab', publishLab, '--from', images, '--json'],
            { cwd: projectDir, maxBuffer: 1 << 26, env: { ...process.env, SSH_AUTH_SOCK: '' } },
          );
          transfers = (JSON.parse(stdout) as { transfers: typeof transfers }).transfers;
        });
        const rootTransfer = transfers
          .filter((t) => t.bytes === t.fileBytes)
          .sort((a, b) => b.bytes - a.bytes)[0];
        if (rootTransfer) ourRoot.push(rootTransfer.bytes / rootTransfer.seconds);
        const dest = path.join(work, 'copy');
        results['scp -r'] = await measure('scp -r', dest, () =>
          run('scp', [
            '-q',
            '-r',
            '-P',
            String(server.port),
            ...ssh,
            ...hosts.map((h) => path.join(images, h)),
            `${remote}:${dest}/`,
          ]),
        );
        const rsh = `ssh -p ${server.port} ${ssh.join(' ')}`;
        results['rsync -a'] = await measure('rsync -a', dest, () =>
          run('rsync', ['-a', '-e', rsh, ...hosts.map((h) => path.join(images, h)), `${remote}:${dest}/`]),
        );
        results['rsync -aH'] = await measure('rsync -aH', dest, () =>
          run('rsync', ['-aH', '-e', rsh, ...hosts.map((h) => path.join(images, h)), `${remote}:${dest}/`]),
        );
        results['scp root image'] = await measure('scp of the root image alone', dest, () =>
          run('scp', [
            '-q',
            '-P',
            String(server.port),
            ...ssh,
            path.join(images, nodes[0] ?? 'pi1', 'sda2.ext4-ptcl-img.gz'),
            `${remote}:${dest}/`,
          ]),
        );
        perRun.push(results);
      }
      const medians = Object.fromEntries(
        Object.keys(perRun[0] ?? {}).map((name) => [
          name,
          {
            seconds: median(perRun.map((r) => r[name]?.seconds ?? Number.NaN)),
            wireBytes: median(perRun.map((r) => r[name]?.wireBytes ?? Number.NaN)),
          },
        ]),
      );
      const scpRoot = sizes.rootImage / (medians['scp root image']?.seconds ?? Number.NaN);
      const ours = median(ourRoot);
      const publishBytes = medians.publish?.wireBytes ?? Number.NaN;
      return {
        runs: options.runs,
        sizes,
        medians,
        rootThroughput: { ours, scp: scpRoot },
        perRun,
        targets: [
          {
            name: 'bytes on the wire / (one root image + 11 boot images)',
            value: (publishBytes / sizes.ideal).toFixed(3),
            limit: `≤ ${PUBLISH_TARGETS.bytesOfIdeal}`,
            pass: publishBytes <= PUBLISH_TARGETS.bytesOfIdeal * sizes.ideal,
          },
          {
            name: 'root image throughput / scp',
            value: (ours / scpRoot).toFixed(3),
            limit: `≥ ${PUBLISH_TARGETS.rootThroughputOfScp}`,
            pass: ours >= PUBLISH_TARGETS.rootThroughputOfScp * scpRoot,
          },
        ],
      };
    } finally {
      await server.stop();
    }
  } finally {
    await net.teardown();
  }
}

export function renderPublishReport(report: PublishBenchReport): string {
  const rows = Object.entries(report.medians).map(
    ([name, m]) =>
      `  ${name.padEnd(28)} ${m.seconds.toFixed(2).padStart(8)} s  ${mb(m.wireBytes).padStart(12)}  ${(m.wireBytes / report.sizes.ideal).toFixed(3)}× ideal`,
  );
  return [
    `publish benchmark: 1 router + 10 nodes over SFTP, medians of ${report.runs} runs`,
    `one root image ${mb(report.sizes.rootImage)} + 11 boot images ${mb(report.sizes.bootImages)} = ideal ${mb(report.sizes.ideal)}; all files of the 11 directories ${mb(report.sizes.allFiles)}`,
    '',
    '  what                          median time   on the wire   bytes / ideal',
    ...rows,
    '',
    `  root image throughput: ours ${mb(report.rootThroughput.ours)}/s, scp ${mb(report.rootThroughput.scp)}/s`,
    '',
    ...report.targets.map((t) => `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.value} (${t.limit})`),
  ].join('\n');
}

async function imageSizes(images: string, hosts: readonly string[]) {
  let bootImages = 0;
  let allFiles = 0;
  let rootImage = 0;
  for (const host of hosts) {
    const manifest = JSON.parse(await readFile(path.join(images, host, 'pi-lab-manifest.json'), 'utf8')) as {
      files: Record<string, { size: number }>;
    };
    for (const [name, file] of Object.entries(manifest.files)) {
      allFiles += file.size;
      if (name.startsWith('sda1.')) bootImages += file.size;
      if (name.startsWith('sda2.') && host !== 'pi0') rootImage = file.size;
    }
  }
  return { rootImage, bootImages, ideal: rootImage + bootImages, allFiles };
}

/** The bench lab with a share on the namespace's sshd and the bench's own key and known_hosts. */
async function writeBenchPublishLab(
  benchLab: string,
  file: string,
  target: string,
  identity: string,
  knownHosts: string,
) {
  const lab = parse(await readFile(benchLab, 'utf8')) as Record<string, unknown>;
  const ssh = { user: 'root', identity, known_hosts: knownHosts, connect_timeout: 60 };
  await writeFile(file, stringify({ ...lab, share: { target }, ssh }));
}

async function interfaceWith(address: string): Promise<string> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  const name = stdout
    .split('\n')
    .find((line) => line.includes(` ${address}/`))
    ?.split(/\s+/)[1];
  if (!name) throw new Error(`no interface holds ${address}`);
  return name;
}

async function txBytes(device: string): Promise<number> {
  return Number((await readFile(`/sys/class/net/${device}/statistics/tx_bytes`, 'utf8')).trim());
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
