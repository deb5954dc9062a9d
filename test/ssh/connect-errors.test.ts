import { readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { describeError, UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import type { SshSettings } from '../../src/ssh/ssh-endpoint.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeClientKey } from '../helpers/sshd.ts';
import { killGroup, runBash, runTool, spawnTool } from '../helpers/spawn-tool.ts';
import { makeTempDir, type TempDir } from '../helpers/temp-dir.ts';
import { eventually, type LoopbackServer, startLoopbackServer, within } from './loopback-server.ts';

/*
 * What connecting refuses, and what it says: host keys (unknown, changed, revoked), keys the server
 * does not accept, passphrase-protected keys, and hosts that refuse, close or never answer. Real
 * sshd on loopback; nothing leaves the machine. The advice printed is run where it can be.
 */

const rootTest = skipUnlessRoot(test);
const GUARD_SECONDS = 90;

async function withServer(work: (lab: LoopbackServer) => Promise<void>): Promise<void> {
  const lab = await startLoopbackServer();
  try {
    await work(lab);
  } finally {
    await lab.release();
  }
}

async function refused(t: ExecutionContext, lab: LoopbackServer, settings: SshSettings): Promise<UserError> {
  const error = await within(
    GUARD_SECONDS,
    'connectSsh',
    t.throwsAsync(connectSsh(lab.endpoint, settings), { instanceOf: UserError }),
  );
  t.log(describeError(error));
  return error;
}

async function canRun(lab: LoopbackServer, settings: SshSettings = lab.settings): Promise<string> {
  const session = await connectSsh(lab.endpoint, settings);
  try {
    return (await session.run(command('echo', ['in']))).stdout;
  } finally {
    await session.close();
  }
}

/** Nothing ran on the server: no login happened at all. */
function noLogin(t: ExecutionContext, lab: LoopbackServer): void {
  t.notRegex(lab.server.log(), /Accepted publickey|Starting session/);
}

rootTest(
  'an unknown host key is refused with its fingerprint; the printed ssh-keyscan line fixes it',
  async (t) => {
    await withServer(async (lab) => {
      const knownHostsFile = path.join(lab.temp.path, 'empty_known_hosts');
      const settings = { ...lab.settings, knownHostsFile };
      const error = await refused(t, lab, settings);
      const port = lab.server.port;
      t.is(
        error.message,
        `the host key of [127.0.0.1]:${port} is not known: ssh-ed25519 ${lab.server.hostKeyFingerprint} is not in ${knownHostsFile}`,
      );
      t.true(
        error.details.includes(
          `or connect once with ssh and answer yes: ssh -o UserKnownHostsFile=${knownHostsFile} -p ${port} root@127.0.0.1`,
        ),
      );
      const accept = error.details.find((line) => line.startsWith('if it matches, accept the key: '));
      t.is(
        accept,
        `if it matches, accept the key: ssh-keyscan -p ${port} -t ed25519 127.0.0.1 >> ${knownHostsFile}`,
      );
      noLogin(t, lab);

      await runBash(accept?.replace('if it matches, accept the key: ', '') ?? 'false');
      t.is(await canRun(lab, settings), 'in\n');
    });
  },
);

rootTest(
  'a changed host key is refused loudly; the printed ssh-keygen -R line removes the old key',
  async (t) => {
    await withServer(async (lab) => {
      const other = await makeClientKey(lab.temp.path, { name: 'other_host_key' });
      const oldLine = `[127.0.0.1]:${lab.server.port} ${other.publicKey.split(' ').slice(0, 2).join(' ')}`;
      const knownHostsFile = path.join(lab.temp.path, 'changed_known_hosts');
      await writeFile(knownHostsFile, `# lab\n${oldLine}\n`);
      const settings = { ...lab.settings, knownHostsFile };
      const error = await refused(t, lab, settings);
      t.regex(error.message, /^WARNING: the host key of \[127\.0\.0\.1\]:\d+ has CHANGED/);
      t.true(error.message.includes(lab.server.hostKeyFingerprint));
      t.true(error.message.includes(`${knownHostsFile} (line 2)`));
      const forget = error.details.find((line) => line.includes('ssh-keygen -R'));
      t.is(
        forget,
        `only if you know why it changed, forget the old key: ssh-keygen -R '[127.0.0.1]:${lab.server.port}' -f ${knownHostsFile}`,
      );
      noLogin(t, lab);

      await runBash(forget?.replace(/^.*: ssh-keygen/, 'ssh-keygen') ?? 'false');
      t.false(
        (await readFile(knownHostsFile, 'utf8')).includes(oldLine.split(' ')[2] ?? '?'),
        'old key removed',
      );
      await writeFile(knownHostsFile, `${lab.server.hostKeyLine}\n`, { flag: 'a' });
      t.is(await canRun(lab, settings), 'in\n');
    });
  },
);

rootTest('a @revoked host key is refused even when listed for the host', async (t) => {
  await withServer(async (lab) => {
    const knownHostsFile = path.join(lab.temp.path, 'revoked_known_hosts');
    await writeFile(knownHostsFile, `${lab.server.hostKeyLine}\n@revoked * ${lab.server.hostPublicKey}\n`);
    const error = await refused(t, lab, { ...lab.settings, knownHostsFile });
    t.regex(error.message, /is marked @revoked in .* \(line 2\): refusing to connect$/);
    noLogin(t, lab);
  });
});

rootTest('a known_hosts file hashed by ssh-keygen -H is honoured', async (t) => {
  await withServer(async (lab) => {
    await runTool('ssh-keygen', ['-H', '-f', lab.knownHostsFile]);
    t.false((await readFile(lab.knownHostsFile, 'utf8')).includes('127.0.0.1'));
    t.is(await canRun(lab), 'in\n');
  });
});

rootTest(
  'a key the server does not accept: the message names the key files tried, never key material',
  async (t) => {
    await withServer(async (lab) => {
      const wrong = await makeClientKey(lab.temp.path, { name: 'id_wrong' });
      const missing = path.join(lab.temp.path, 'id_missing');
      const error = await refused(t, lab, {
        ...lab.settings,
        identityFiles: [missing, wrong.privateKeyFile],
      });
      t.is(
        error.message,
        `cannot log in to root@127.0.0.1:${lab.server.port}: the server accepted none of the keys offered`,
      );
      t.true(error.details.includes(`offered: ${wrong.privateKeyFile}`));
      t.true(error.details.includes(`${missing}: no such file`));
      t.true(
        error.details.includes(
          `install your public key on the host: ssh-copy-id -i ${wrong.privateKeyFile}.pub -p ${lab.server.port} root@127.0.0.1`,
        ),
      );
      const privateText = await readFile(wrong.privateKeyFile, 'utf8');
      const secretLines = privateText.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));
      const everything = describeError(error);
      for (const line of secretLines) t.false(everything.includes(line));
      t.false(everything.includes(wrong.publicKey.split(' ')[1] ?? '?'));
      t.regex(
        lab.server.log(),
        /Connection closed by authenticating user root|Failed publickey|Disconnected from authenticating user/,
      );
    });
  },
);

rootTest(
  'a passphrase-protected key and no agent: says to load it with ssh-add, never the passphrase',
  async (t) => {
    await withServer(async (lab) => {
      const passphrase = 'correct horse battery';
      const locked = await makeClientKey(lab.temp.path, { name: 'id_locked', passphrase });
      const error = await refused(t, lab, { ...lab.settings, identityFiles: [locked.privateKeyFile] });
      t.is(error.message, `cannot log in to root@127.0.0.1:${lab.server.port}: no SSH key to offer`);
      t.true(
        error.details.includes(
          `${locked.privateKeyFile} is passphrase-protected and no ssh-agent is running: start one and load the key with: eval "$(ssh-agent)" && ssh-add ${locked.privateKeyFile}`,
        ),
      );
      t.false(describeError(error).includes(passphrase));
      t.notRegex(lab.server.log(), /Connection from/, 'refused before connecting');
    });
  },
);

rootTest('a passphrase-protected key loaded into ssh-agent logs in through the agent', async (t) => {
  await withServer(async (lab) => {
    const passphrase = 'correct horse battery';
    const locked = await makeClientKey(lab.temp.path, { name: 'id_agent', passphrase });
    // The key this server accepts is the locked one.
    await writeFile(path.join(lab.server.dir, 'authorized_keys'), `${locked.publicKey}\n`);
    const socket = path.join(lab.temp.path, 'agent.sock');
    let agentPid = -1;
    const agent = spawnTool('ssh-agent', ['-D', '-a', socket], {
      onSpawn: (pid) => (agentPid = pid),
      timeoutMs: 300_000,
    });
    try {
      const askpass = path.join(lab.temp.path, 'askpass.sh');
      await writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' '${passphrase}'\n`, { mode: 0o700 });
      await waitForSocket(socket);
      await runTool('ssh-add', [locked.privateKeyFile], {
        env: {
          ...process.env,
          SSH_AUTH_SOCK: socket,
          SSH_ASKPASS: askpass,
          SSH_ASKPASS_REQUIRE: 'force',
          DISPLAY: ':0',
        },
      });
      const settings = {
        ...lab.settings,
        identityFiles: [locked.privateKeyFile],
        agentSocket: socket,
        useAgent: true,
      };
      t.is(await canRun(lab, settings), 'in\n');
    } finally {
      killGroup(agentPid, 'SIGTERM');
      await agent;
    }
  });
});

rootTest('a dead agent socket is noted and skipped: the key files still log in', async (t) => {
  await withServer(async (lab) => {
    const agentSocket = path.join(lab.temp.path, 'no-agent.sock');
    t.is(await canRun(lab, { ...lab.settings, agentSocket, useAgent: true }), 'in\n');
    const wrong = await makeClientKey(lab.temp.path, { name: 'id_wrong' });
    const error = await refused(t, lab, {
      ...lab.settings,
      identityFiles: [wrong.privateKeyFile],
      agentSocket,
      useAgent: true,
    });
    t.true(error.details.includes(`offered: the ssh-agent at ${agentSocket}, ${wrong.privateKeyFile}`));
    t.true(error.details.some((line) => line.startsWith('the ssh-agent failed: ')));
  });
});

rootTest('sshd giving up after MaxAuthTries is reported as a refused login', async (t) => {
  const lab = await startLoopbackServer({ extraConfig: ['MaxAuthTries 1'] });
  try {
    const keys = [
      await makeClientKey(lab.temp.path, { name: 'id_wrong1' }),
      await makeClientKey(lab.temp.path, { name: 'id_wrong2' }),
      await makeClientKey(lab.temp.path, { name: 'id_wrong3' }),
    ];
    const error = await refused(t, lab, {
      ...lab.settings,
      identityFiles: keys.map((key) => key.privateKeyFile),
    });
    t.regex(
      error.message,
      /^cannot log in to root@127\.0\.0\.1:\d+: the server said: Too many authentication failures$/,
    );
    t.true(error.details.some((line) => line.startsWith('sshd gives up after MaxAuthTries keys')));
    t.true(error.details.some((line) => line.startsWith('install your public key on the host: ssh-copy-id')));
    const gaveUp = /maximum authentication attempts exceeded/;
    t.true(await eventually(30, () => gaveUp.test(lab.server.log())), lab.server.log());
  } finally {
    await lab.release();
  }
});

async function waitForSocket(file: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ssh-agent did not create ${file}`);
}

test('a closed port: connection refused, with what to check', async (t) => {
  const port = await closedPort();
  const error = await within(
    GUARD_SECONDS,
    'connectSsh',
    t.throwsAsync(connectSsh({ host: '127.0.0.1', port, user: 'pi' }, await clientSettings()), {
      instanceOf: UserError,
    }),
  );
  t.is(error.message, `cannot connect to pi@127.0.0.1:${port}: connection refused by 127.0.0.1 port ${port}`);
  t.true(
    error.details.some((line) =>
      line.startsWith(`is sshd running on 127.0.0.1, and listening on port ${port}?`),
    ),
  );
});

test('a server that never speaks SSH: a timeout that says what to check', async (t) => {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const port = (silent.address() as net.AddressInfo).port;
    const settings = { ...(await clientSettings()), connectTimeoutSeconds: 2 };
    const error = await within(
      GUARD_SECONDS,
      'connectSsh',
      t.throwsAsync(connectSsh({ host: '127.0.0.1', port, user: 'pi' }, settings), { instanceOf: UserError }),
    );
    t.is(
      error.message,
      `cannot connect to pi@127.0.0.1:${port}: no SSH login to 127.0.0.1 port ${port} within 2 s`,
    );
    t.true(error.details.includes('is this machine on the lab network (cable, Wi-Fi, VPN)?'));
  } finally {
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('a server that hangs up at once: closed before the SSH handshake', async (t) => {
  const rude = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
  try {
    const port = (rude.address() as net.AddressInfo).port;
    const error = await within(
      GUARD_SECONDS,
      'connectSsh',
      t.throwsAsync(connectSsh({ host: '127.0.0.1', port, user: 'pi' }, await clientSettings()), {
        instanceOf: UserError,
      }),
    );
    t.regex(
      error.message,
      /^cannot connect to pi@127\.0\.0\.1:\d+: 127\.0\.0\.1 port \d+ closed the connection/,
    );
  } finally {
    await new Promise((resolve) => rude.close(resolve));
  }
});

test('host and user names that are not plain names are refused before anything happens', async (t) => {
  const settings = await clientSettings();
  await t.throwsAsync(connectSsh({ host: 'pi1; rm -rf /', user: 'pi' }, settings), {
    instanceOf: UserError,
    message: /^SSH host "pi1; rm -rf \/" \(in pi@pi1; rm -rf \/\) is not a host name or address$/,
  });
  await t.throwsAsync(connectSsh({ host: 'pi1', user: '$(id)' }, settings), {
    instanceOf: UserError,
    message: /is not a user name/,
  });
  await t.throwsAsync(connectSsh({ host: 'pi1', user: 'pi', port: 70000 }, settings), {
    instanceOf: UserError,
    message: /must be a whole number from 1 to 65535/,
  });
});

let clientTemp: TempDir | undefined;
let settingsForClient: Promise<SshSettings> | undefined;

test.after.always(async () => {
  await clientTemp?.remove();
});

/** A key that exists (so that connecting gets as far as the network), in a dir removed after the tests. */
function clientSettings(): Promise<SshSettings> {
  settingsForClient ??= (async () => {
    clientTemp = await makeTempDir();
    const key = await makeClientKey(clientTemp.path);
    return {
      identityFiles: [key.privateKeyFile],
      knownHostsFile: path.join(clientTemp.path, 'known_hosts'),
      useAgent: false,
      connectTimeoutSeconds: 60,
    };
  })();
  return settingsForClient;
}

async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
