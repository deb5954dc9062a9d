import path from 'node:path';
import test from 'ava';
import { describeError, UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import type { SshEndpoint, SshSettings } from '../../src/ssh/ssh-endpoint.ts';
import { makeNetLab, type NetLab, type VethLink } from '../helpers/netns.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { knownHostsFor, makeClientKey, type SshdServer, startSshd } from '../helpers/sshd.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { eventually, within } from './loopback-server.ts';

/*
 * ProxyJump through real sshds in network namespaces:
 *
 *   host (this process) ──outer link── ns-jump (sshd) ──inner link── ns-target (sshd)
 *
 * The host namespace has no route to the inner link (an `unreachable` route, so nothing leaves
 * through the default route): a direct connection to the target fails, one through the jump works.
 * sshd on the jump host opens the TCP connection from inside ns-jump; no forwarding is enabled.
 */

const rootTest = skipUnlessRoot(test.serial);
const GUARD_SECONDS = 90;

interface Lab {
  readonly net: NetLab;
  readonly temp: TempDir;
  readonly outer: VethLink;
  readonly inner: VethLink;
  readonly jumpServer: SshdServer;
  readonly targetServer: SshdServer;
  readonly jump: SshEndpoint;
  readonly target: SshEndpoint;
  readonly settings: SshSettings;
}

let lab: Promise<Lab> | undefined;
const cleanups: (() => Promise<void>)[] = [];

test.after.always(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

function jumpLab(): Promise<Lab> {
  lab ??= (async () => {
    const temp = await makeTempDir();
    cleanups.push(() => temp.remove());
    const net = makeNetLab();
    cleanups.push(() => net.teardown());
    const [jumpNs, targetNs] = [await net.namespace(), await net.namespace()];
    const outer = await net.link('host', jumpNs);
    const inner = await net.link(jumpNs, targetNs);
    const key = await makeClientKey(temp.path);
    const jumpServer = await startSshd({
      netns: jumpNs,
      listenAddress: outer.rightAddress,
      authorizedKeys: key.publicKey,
    });
    cleanups.push(() => jumpServer.stop());
    const targetServer = await startSshd({
      netns: targetNs,
      listenAddress: inner.rightAddress,
      authorizedKeys: key.publicKey,
    });
    cleanups.push(() => targetServer.stop());
    const knownHostsFile = await knownHostsFor(path.join(temp.path, 'known_hosts'), jumpServer, targetServer);
    const jump = { host: outer.rightAddress, user: 'root' };
    return {
      net,
      temp,
      outer,
      inner,
      jumpServer,
      targetServer,
      jump,
      target: { host: inner.rightAddress, user: 'root', jump },
      settings: {
        identityFiles: [key.privateKeyFile],
        knownHostsFile,
        useAgent: false,
        connectTimeoutSeconds: 60,
      },
    };
  })();
  return lab;
}

rootTest('the target is unreachable directly: the error says so and suggests a jump host', async (t) => {
  const { target, settings } = await jumpLab();
  const direct = { host: target.host, user: target.user };
  const error = await within(
    GUARD_SECONDS,
    'direct connect',
    t.throwsAsync(connectSsh(direct, settings), { instanceOf: UserError }),
  );
  t.log(describeError(error));
  t.regex(
    error.message,
    new RegExp(
      `^cannot connect to root@${target.host.replaceAll('.', '\\.')}: .* is unreachable \\(E(HOST|NET)UNREACH\\)$`,
    ),
  );
  t.true(
    error.details.includes('if the host is only reachable through another machine, give it a jump host'),
  );
});

rootTest('through the jump host: commands run on the target, reached from the jump host', async (t) => {
  const { target, settings, inner, outer } = await jumpLab();
  const session = await connectSsh(target, settings);
  try {
    t.is(session.describe(), `root@${inner.rightAddress} via root@${outer.rightAddress}`);
    const result = await session.run(command('printenv', ['SSH_CONNECTION']));
    const [client, , server, port] = result.stdout.trim().split(' ');
    t.is(client, inner.leftAddress, 'the target saw the jump host as its client');
    t.is(server, inner.rightAddress);
    t.is(port, '22');
    const sftp = await session.sftp();
    const names = await new Promise<string[]>((resolve, reject) =>
      sftp.readdir('/', (error, list) =>
        error ? reject(error) : resolve(list.map((entry) => entry.filename)),
      ),
    );
    t.true(names.includes('etc'));
  } finally {
    await session.close();
  }
  t.true(session.isClosed);
});

rootTest('close() closes the jump connection too', async (t) => {
  const { target, settings, jumpServer } = await jumpLab();
  const before = countDisconnects(jumpServer);
  const session = await connectSsh(target, settings);
  await session.run(command('true', []));
  await session.close();
  t.true(
    await eventually(30, () => countDisconnects(jumpServer) > before),
    `the jump sshd saw the disconnect\n${jumpServer.log()}`,
  );
});

rootTest('the jump connection lost mid-command: the command rejects with the lost connection', async (t) => {
  const { target, settings, jumpServer } = await jumpLab();
  const session = await connectSsh(target, settings);
  try {
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((resolve) => (started = resolve));
    const running = session.exec(command('sh', ['-c', 'echo started; sleep 120']), {
      onStdout: () => started(),
    });
    await within(GUARD_SECONDS, 'the command start', isStarted);
    await jumpServer.killSessions();
    const error = await within(
      GUARD_SECONDS,
      'the lost command',
      t.throwsAsync(running, { instanceOf: UserError }),
    );
    t.is(
      error.message,
      `connection to ${session.describe()} lost while running sh -c 'echo started; sleep 120'`,
    );
    await within(GUARD_SECONDS, 'closed', session.closed);
  } finally {
    await session.close();
  }
});

rootTest(
  'nothing listening on the target port: the error names the jump host and what it could not reach',
  async (t) => {
    const { target, settings, outer } = await jumpLab();
    const error = await within(
      GUARD_SECONDS,
      'connect via jump',
      t.throwsAsync(connectSsh({ ...target, port: 2222 }, settings), { instanceOf: UserError }),
    );
    t.log(describeError(error));
    t.is(
      error.message,
      `cannot connect to root@${target.host}:2222 via root@${outer.rightAddress}: the jump host root@${outer.rightAddress} could not open a connection to ${target.host} port 2222 (Connection refused)`,
    );
  },
);

rootTest(
  'an unknown target key behind a jump host: the advice runs ssh-keyscan on the jump host',
  async (t) => {
    const { target, settings, temp, outer, targetServer, jumpServer } = await jumpLab();
    const knownHostsFile = path.join(temp.path, 'jump_only_known_hosts');
    await knownHostsFor(knownHostsFile, jumpServer);
    const loginsBefore = countLogins(targetServer);
    const error = await within(
      GUARD_SECONDS,
      'connect via jump',
      t.throwsAsync(connectSsh(target, { ...settings, knownHostsFile }), { instanceOf: UserError }),
    );
    t.is(
      error.message,
      `the host key of ${target.host} is not known: ssh-ed25519 ${targetServer.hostKeyFingerprint} is not in ${knownHostsFile}`,
    );
    t.true(
      error.details.includes(
        `if it matches, accept the key: ssh -p 22 root@${outer.rightAddress} ssh-keyscan -p 22 -t ed25519 ${target.host} >> ${knownHostsFile}`,
      ),
    );
    t.true(
      error.details.includes(
        `or connect once with ssh and answer yes: ssh -o UserKnownHostsFile=${knownHostsFile} -J root@${outer.rightAddress} -p 22 root@${target.host}`,
      ),
    );
    t.is(countLogins(targetServer), loginsBefore, 'nobody logged in to the target');
  },
);

function countLogins(server: SshdServer): number {
  return server.log().match(/Accepted publickey/g)?.length ?? 0;
}

function countDisconnects(server: SshdServer): number {
  return server.log().match(/Disconnected from user root|Received disconnect/g)?.length ?? 0;
}
