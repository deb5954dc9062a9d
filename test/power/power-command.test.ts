import path from 'node:path';
import net from 'node:net';
import test from 'ava';
import { cliOutput, type CliResult, runScriptCli } from '../helpers/bake-cli.ts';
import { startFakeKasaPlug } from '../helpers/fake-kasa-plug.ts';
import { startFakeShellyPlug } from '../helpers/fake-shelly-plug.ts';
import { skipUnlessRoot } from '../helpers/root-only.ts';
import { makeClientKey, startSshd } from '../helpers/sshd.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';
import { isolatedSshEnv, writeTestLab } from '../helpers/test-lab-file.ts';

/*
 * `npm run power` against fake plugs on loopback (the only double: there is no plug here) and hosts
 * that are a real sshd (pi1 answers) or a closed port (pi2 is down). Power is never cut while a
 * host it feeds answers, unless --force; a cycle comes back on by the plug's own timer.
 */

interface PowerJson {
  readonly plugs: readonly {
    plug: string;
    on?: boolean;
    result: string;
    ok: boolean;
    answering?: string[];
  }[];
}

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

skipUnlessRoot(test)(
  'status, refusals while a host answers, --force, a timed cycle, and credentials by variable',
  async (t) => {
    const temp = await makeTempDir();
    t.teardown(() => temp.remove());
    const key = await makeClientKey(temp.path);
    const sshd = await startSshd({ authorizedKeys: key.publicKey });
    t.teardown(() => sshd.stop());
    const kasa = await startFakeKasaPlug({ on: true });
    t.teardown(() => kasa.stop());
    const shelly = await startFakeShellyPlug({ on: true, password: 'plug secret' });
    t.teardown(() => shelly.stop());
    const down = await closedPort();
    const labFile = await writeTestLab(path.join(temp.path, 'lab.yaml'), {
      share: undefined,
      ssh: { user: 'root', identity: key.privateKeyFile, known_hosts: path.join(temp.path, 'known_hosts') },
      power: {
        plugs: [
          { name: 'nodes', driver: 'kasa', address: '127.0.0.1', port: kasa.port, feeds: ['pi1'] },
          {
            name: 'spare',
            driver: 'shelly',
            address: '127.0.0.1',
            port: shelly.port,
            credentials: 'PI_LAB_TEST_SHELLY',
            feeds: ['pi2'],
          },
        ],
      },
      hosts: [
        {
          name: 'pi1',
          recipe: 'node',
          ssh: { address: '127.0.0.1', port: sshd.port },
          imager: { address: '127.0.0.1', port: down },
        },
        {
          name: 'pi2',
          recipe: 'node',
          ssh: { address: '127.0.0.1', port: down },
          imager: { address: '127.0.0.1', port: down },
        },
      ],
    });
    const power = (args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> =>
      runScriptCli('power', [...args, '--lab', labFile, '--json'], {
        env: { ...isolatedSshEnv(path.join(temp.path, 'home')), PI_LAB_TEST_SHELLY: 'plug secret', ...env },
      });
    const plugs = (result: CliResult) => (JSON.parse(result.stdout) as PowerJson).plugs;

    const status = await power(['status']);
    t.is(status.exitCode, 0, cliOutput(status));
    t.deepEqual(
      plugs(status).map((p) => [p.plug, p.on]),
      [
        ['nodes', true],
        ['spare', true],
      ],
    );

    const refused = await power(['off', 'pi1']);
    t.is(refused.exitCode, 1, cliOutput(refused));
    t.deepEqual(plugs(refused)[0]?.answering, ['pi1']);
    t.regex(
      plugs(refused)[0]?.result ?? '',
      /not switched off: pi1 still answers at root@127\.0\.0\.1:\d+\. Shut it down first/,
    );
    t.true(kasa.relay.on, 'the plug feeding an answering host stays on');
    const refusedCycle = await power(['cycle', 'nodes']);
    t.is(refusedCycle.exitCode, 1);
    t.true(kasa.relay.on);

    const forced = await power(['off', 'pi1', '--force']);
    t.is(forced.exitCode, 0, cliOutput(forced));
    t.regex(plugs(forced)[0]?.result ?? '', /switched off \(forced: pi1 still answered\)/);
    t.false(kasa.relay.on);

    const cycled = await power(['cycle', 'pi2', '--off-seconds', '1']);
    t.is(cycled.exitCode, 0, cliOutput(cycled));
    t.regex(plugs(cycled)[0]?.result ?? '', /the plug's own timer switches it back on in 1 s/);
    const back = await shelly.relay.waitForSwitch((change) => change.on && change.by === 'timer', 5000);
    t.is(back.by, 'timer', 'back on by the plug itself, not by this machine');

    const noPassword = await power(['status', 'spare'], { PI_LAB_TEST_SHELLY: '' });
    t.is(noPassword.exitCode, 2, cliOutput(noPassword));
    t.regex(
      noPassword.stderr,
      /plug "spare" needs its password in the environment variable PI_LAB_TEST_SHELLY/,
    );

    const unknown = await power(['on', 'pi9']);
    t.is(unknown.exitCode, 2);
    t.regex(unknown.stderr, /pi9 is neither a plug nor a host/);
  },
);
