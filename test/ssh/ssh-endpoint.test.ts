import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { command } from '../../src/exec/command.ts';
import { renderRemoteCommand } from '../../src/ssh/remote-exec.ts';
import {
  checkEndpoint,
  describeEndpoint,
  hostKeyName,
  proxyJumpSpec,
  resolveSshSettings,
  sshCommandLine,
} from '../../src/ssh/ssh-endpoint.ts';
import { connectionFailed } from '../../src/ssh/ssh-errors.ts';

/* Pure parts: settings defaults, endpoint names, remote command rendering, error mapping. */

const target = { host: '10.0.0.2', port: 2222, user: 'pi', jump: { host: '10.0.0.1', user: 'pi' } };

test('settings: defaults under the home directory, the agent when SSH_AUTH_SOCK is set', (t) => {
  t.deepEqual(resolveSshSettings({}, { SSH_AUTH_SOCK: '/run/agent.sock' }, '/home/me'), {
    identityFiles: ['/home/me/.ssh/id_ed25519', '/home/me/.ssh/id_ecdsa', '/home/me/.ssh/id_rsa'],
    identityFilesExplicit: false,
    knownHostsFile: '/home/me/.ssh/known_hosts',
    agentSocket: '/run/agent.sock',
    connectTimeoutSeconds: 15,
    keepaliveSeconds: 10,
    acceptHostKey: undefined,
  });
  t.is(resolveSshSettings({}, {}, '/home/me').agentSocket, undefined);
  t.is(
    resolveSshSettings({ useAgent: false }, { SSH_AUTH_SOCK: '/run/a' }, '/home/me').agentSocket,
    undefined,
  );
});

test('settings: explicit files with ~ are expanded; bad values are user errors', (t) => {
  const resolved = resolveSshSettings(
    { identityFiles: ['~/keys/lab', '/abs/key'], knownHostsFile: '~/kh', connectTimeoutSeconds: 3 },
    {},
    '/home/me',
  );
  t.deepEqual(resolved.identityFiles, ['/home/me/keys/lab', '/abs/key']);
  t.true(resolved.identityFilesExplicit);
  t.is(resolved.knownHostsFile, '/home/me/kh');
  t.is(resolved.connectTimeoutSeconds, 3);
  t.throws(() => resolveSshSettings({ useAgent: true }, {}, '/home/me'), {
    instanceOf: UserError,
    message: /SSH_AUTH_SOCK is not set/,
  });
  t.throws(() => resolveSshSettings({ keepaliveSeconds: 0 }, {}, '/home/me'), { instanceOf: UserError });
});

test('endpoint names: describe, known_hosts name, ProxyJump and the ssh command line', (t) => {
  t.is(describeEndpoint(target), 'pi@10.0.0.2:2222 via pi@10.0.0.1');
  t.is(
    describeEndpoint({
      ...target,
      jump: { ...target.jump, jump: { host: 'gw', user: 'admin', port: 2200 } },
    }),
    'pi@10.0.0.2:2222 via pi@10.0.0.1 via admin@gw:2200',
  );
  t.is(hostKeyName(target), '[10.0.0.2]:2222');
  t.is(hostKeyName(target.jump), '10.0.0.1');
  t.is(
    proxyJumpSpec({ ...target.jump, jump: { host: 'gw', user: 'admin', port: 2200 } }),
    'admin@gw:2200,pi@10.0.0.1',
  );
  t.is(sshCommandLine(target), 'ssh -J pi@10.0.0.1 -p 2222 pi@10.0.0.2');
});

test('endpoints: names that would need quoting are refused, jumps included', (t) => {
  t.notThrows(() => checkEndpoint(target));
  t.notThrows(() => checkEndpoint({ host: 'pi-1.lab', user: 'pi' }));
  for (const bad of [
    { host: '-oProxyCommand=x', user: 'pi' },
    { host: 'pi 1', user: 'pi' },
    { host: 'pi1', user: 'pi;id' },
    { host: 'pi1', user: 'pi', port: 0 },
    { host: 'pi1', user: 'pi', jump: { host: '$(id)', user: 'pi' } },
  ]) {
    t.throws(() => checkEndpoint(bad), { instanceOf: UserError }, JSON.stringify(bad));
  }
});

test('the remote command is the project formatter output; cwd becomes a quoted cd', (t) => {
  t.is(renderRemoteCommand(command('echo', [`it's $HOME`])), `echo 'it'\\''s $HOME'`);
  t.is(
    renderRemoteCommand(command('ls', ['-l'], { cwd: '/srv/images dir', env: { LC_ALL: 'C' } })),
    `cd '/srv/images dir' && LC_ALL=C ls -l`,
  );
});

test('connection errors map to what to check, naming the endpoint and the jump host', (t) => {
  const jumpHop = { endpoint: target.jump, target, isJump: true };
  const targetHop = { endpoint: target, target, isJump: false };
  const refused = connectionFailed({ message: 'x', code: 'ECONNREFUSED' }, jumpHop, 15);
  t.is(
    refused.message,
    'cannot connect to pi@10.0.0.2:2222 via pi@10.0.0.1: the jump host pi@10.0.0.1 failed: connection refused by 10.0.0.1 port 22',
  );
  const unreachable = connectionFailed({ message: 'x', code: 'EHOSTUNREACH' }, targetHop, 15);
  t.regex(unreachable.message, /10\.0\.0\.2 is unreachable \(EHOSTUNREACH\)$/);
  t.true(unreachable.details.includes('is the jump host pi@10.0.0.1 up, and can it reach 10.0.0.2?'));
  const jumpUnreachable = connectionFailed({ message: 'x', code: 'ETIMEDOUT' }, jumpHop, 15);
  t.true(
    jumpUnreachable.details.includes('the jump host 10.0.0.1 must be reachable from this machine directly'),
  );
  const unresolved = connectionFailed(
    { message: 'x', code: 'ENOTFOUND' },
    { endpoint: { host: 'pi9', user: 'pi' }, target: { host: 'pi9', user: 'pi' }, isJump: false },
    15,
  );
  t.is(unresolved.message, 'cannot connect to pi@pi9: the host name pi9 does not resolve (ENOTFOUND)');
  const timeout = connectionFailed(
    { message: 'Timed out while waiting for handshake', level: 'client-timeout' },
    targetHop,
    15,
  );
  t.regex(timeout.message, /no SSH login to 10\.0\.0\.2 port 2222 within 15 s$/);
});
