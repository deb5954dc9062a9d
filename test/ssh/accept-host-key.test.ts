import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { connectSsh } from '../../src/ssh/connect-ssh.ts';
import { recordHostKey } from '../../src/ssh/record-host-key.ts';
import type { HostKeyAcceptor } from '../../src/ssh/ssh-endpoint.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeClientKey, startSshd } from '../helpers/sshd.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

/* After a re-image the host shows a new key: deploy may take it for that connection and record it. */

skipUnlessRoot(test)(
  'a taken host key is recorded under its tag; strict connections then accept it',
  async (t) => {
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const key = await makeClientKey(temp.path);
    const server = await startSshd({ authorizedKeys: key.publicKey });
    t.teardown(() => server.stop());
    const knownHostsFile = path.join(temp.path, 'known_hosts');
    const otherLine = `[${server.host}]:${server.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOZFXSNZVMtDC1DiBZJ0xSxjfjv3UkjWEKnRk3HSthBi`;
    await writeFile(knownHostsFile, `${otherLine} pi-lab-deploy:pi1\n${otherLine} users-own\n`);
    const endpoint = { host: server.host, port: server.port, user: 'root' };
    const settings = { identityFiles: [key.privateKeyFile], knownHostsFile, useAgent: false };

    await t.throwsAsync(connectSsh(endpoint, settings), { instanceOf: UserError, message: /host key/i });

    let offered: Parameters<HostKeyAcceptor>[0] | undefined;
    const session = await connectSsh(endpoint, { ...settings, acceptHostKey: (k) => ((offered = k), true) });
    t.is((await session.run(command('echo', ['in']))).stdout, 'in\n');
    await session.close();
    t.is(offered?.status, 'changed');
    if (!offered) return;

    await recordHostKey(knownHostsFile, endpoint, offered, 'pi-lab-deploy:pi1');
    const lines = (await readFile(knownHostsFile, 'utf8')).trim().split('\n');
    t.deepEqual(lines, [`${otherLine} users-own`, `${server.hostKeyLine} pi-lab-deploy:pi1`]);
    const strict = await connectSsh(endpoint, settings);
    await strict.close();
    t.pass();
  },
);
