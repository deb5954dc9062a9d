import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { describeError } from '../errors.ts';
import type { Lab } from '../lab/lab-types.ts';
import { connectSsh } from '../ssh/connect-ssh.ts';
import { sshSettings } from '../ssh/lab-ssh.ts';
import { probePasswordLogin } from '../ssh/probe-password-login.ts';
import { recordHostKey } from '../ssh/record-host-key.ts';
import { DEFAULT_IDENTITY_FILES, type SshEndpoint, type SshSettings } from '../ssh/ssh-endpoint.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import type { Booted } from './host-trial.ts';
import type { CheckResult } from './guest-checks.ts';
import { findLease, readLeases } from './lab-checks.ts';

/** The sample lab's key pair, written by `npm run sample` next to the images it bakes. */
export const SAMPLE_KEY_DIR = 'sample-lab-key';
const PROBE_INTERVAL_MS = 3000;
/** A password a careless image might still accept. */
const PROBE_PASSWORD = 'raspberry';

/** The user's keys as deploy finds them, plus the sample lab's key when it is there. */
export async function bootTestSshSettings(lab: Lab, fromDir: string, work: string): Promise<SshSettings> {
  const knownHosts = path.join(work, 'known_hosts');
  await writeFile(knownHosts, '');
  const base = sshSettings(lab.ssh);
  const sampleKey = path.join(fromDir, SAMPLE_KEY_DIR, 'id_ed25519');
  const hasSampleKey = await access(sampleKey).then(
    () => true,
    () => false,
  );
  const identityFiles = base.identityFiles ?? DEFAULT_IDENTITY_FILES;
  return {
    ...base,
    identityFiles: hasSampleKey ? [...identityFiles, sampleKey] : identityFiles,
    knownHostsFile: knownHosts,
    // The VM made its host keys at its first boot, minutes ago, on a network only we can reach.
    acceptHostKey: () => true,
  };
}

type HostKey = Parameters<NonNullable<SshSettings['acceptHostKey']>>[0];

const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));

/**
 * Logs in as soon as the host lets us. A refused login is retried too: sshd may be up before the
 * first boot has installed the key. `onRefused` keeps the last reason for the failure message.
 */
export function waitForLogin(
  endpoint: SshEndpoint,
  settings: SshSettings,
  signal: AbortSignal,
  onRefused: (reason: string) => void,
): Promise<Booted> {
  return pollForLogin(() => Promise.resolve(endpoint), settings, signal, onRefused);
}

/** A node on the lab switch: found by its MAC in the router's leases, then reached through the router. */
export function waitForNodeOnLab(
  router: SshSession,
  routerEndpoint: SshEndpoint,
  mac: string,
  user: string,
  settings: SshSettings,
  signal: AbortSignal,
  onRefused: (reason: string) => void,
): Promise<Booted> {
  const leasedEndpoint = async (): Promise<SshEndpoint | string> => {
    const leased = findLease(await readLeases(router), mac);
    return leased === undefined
      ? `the router has leased nothing to ${mac} yet`
      : { host: leased, user, jump: routerEndpoint };
  };
  return pollForLogin(leasedEndpoint, settings, signal, onRefused);
}

/**
 * Every few seconds: where to log in (or why not yet), then a login. The key a host shows is
 * recorded, so that a host reached through it is checked against that key.
 */
async function pollForLogin(
  nextEndpoint: () => Promise<SshEndpoint | string>,
  settings: SshSettings,
  signal: AbortSignal,
  onRefused: (reason: string) => void,
): Promise<Booted> {
  const stopped = (): boolean => signal.aborted;
  while (!stopped()) {
    try {
      const endpoint = await nextEndpoint();
      if (typeof endpoint === 'string') {
        onRefused(endpoint);
      } else {
        let hostKey: HostKey | undefined;
        const session = await connectSsh(endpoint, {
          ...settings,
          connectTimeoutSeconds: 20,
          acceptHostKey: (key) => {
            hostKey = key;
            return settings.acceptHostKey?.(key) ?? false;
          },
        });
        if (hostKey && settings.knownHostsFile)
          await recordHostKey(settings.knownHostsFile, endpoint, hostKey, 'pi-lab-boot-test');
        if (!stopped()) return { session, address: endpoint.host };
        await session.close();
      }
    } catch (error) {
      onRefused(describeError(error));
    }
    await pause();
  }
  throw new Error('stopped waiting for SSH');
}

/** Tries a password login over `connect()`'s stream and lists what the server offers. */
export async function checkPasswordRefused(
  connect: () => Promise<Duplex>,
  user: string,
): Promise<CheckResult> {
  const name = 'a password login is refused';
  const probe = await probePasswordLogin(await connect(), user, PROBE_PASSWORD);
  const offered = probe.methodsOffered.join(',') || 'none';
  if (probe.accepted)
    return { name, ok: false, detail: `the password was accepted (the server offers ${offered})` };
  const passwordish = probe.methodsOffered.filter((m) => m === 'password' || m === 'keyboard-interactive');
  return passwordish.length > 0
    ? { name, ok: false, detail: `refused, but the server offers ${offered}` }
    : { name, ok: true, detail: `the server offers only ${offered}` };
}
