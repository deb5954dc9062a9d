import { command } from '../exec/command.ts';
import type { SshSession } from '../ssh/ssh-session.ts';
import { IMAGE_MARKER_PATH, parseMarker } from '../image/marker.ts';

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface HostExpectation {
  readonly host: string;
  readonly version: string;
  readonly firstBoot: 'firstrun' | 'cloud-init';
}

/** Where Raspberry Pi OS mounts the FAT partition. */
const FIRMWARE_DIR = '/boot/firmware';
const SETTLE_TIMEOUT_SECONDS = 900;

const sh = (script: string) => command('sh', ['-c', script]);

async function output(session: SshSession, script: string, timeoutSeconds = 60): Promise<string> {
  const result = await session.exec(sh(script), { timeoutSeconds });
  return `${result.stdout}${result.stderr}`.trim();
}

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string): CheckResult => ({ name, ok: false, detail });

/** Every check a booted host must pass, in order; each names what it saw. */
export async function checkBootedHost(session: SshSession, expect: HostExpectation): Promise<CheckResult[]> {
  return [
    await checkSystemRunning(session),
    await checkHostname(session, expect.host),
    await checkEtcHosts(session, expect.host),
    await checkFirstBootDone(session, expect.firstBoot),
    await checkSshdKeyOnly(session),
    await checkImageMarker(session, expect),
  ];
}

export async function checkSystemRunning(session: SshSession): Promise<CheckResult> {
  const name = 'reaches multi-user with no failed units';
  const state = await output(
    session,
    'systemctl is-system-running --wait 2>/dev/null; true',
    SETTLE_TIMEOUT_SECONDS,
  );
  if (state === 'running') return pass(name, 'systemctl is-system-running: running');
  const failed = await output(session, 'systemctl --failed --no-legend --plain | cut -d" " -f1');
  return fail(name, `systemctl is-system-running: ${state}; failed units: ${failed || 'none listed'}`);
}

export async function checkHostname(session: SshSession, host: string): Promise<CheckResult> {
  const name = `hostname is ${host}`;
  const seen = await output(session, 'hostname');
  return seen === host ? pass(name, seen) : fail(name, `hostname says ${seen}`);
}

export async function checkEtcHosts(session: SshSession, host: string): Promise<CheckResult> {
  const name = `/etc/hosts maps 127.0.1.1 to ${host}`;
  const line = await output(session, "grep '^127\\.0\\.1\\.1' /etc/hosts || true");
  const names = line.split(/\s+/).slice(1);
  return names.includes(host) ? pass(name, line) : fail(name, `127.0.1.1 line: ${line || 'none'}`);
}

export async function checkFirstBootDone(
  session: SshSession,
  firstBoot: HostExpectation['firstBoot'],
): Promise<CheckResult> {
  if (firstBoot === 'cloud-init') {
    const name = 'cloud-init finished without errors';
    const status = await output(session, 'cloud-init status --wait --long || true', SETTLE_TIMEOUT_SECONDS);
    return /^status: done$/m.test(status) ? pass(name, 'status: done') : fail(name, status);
  }
  const name = 'first-boot hook removed from cmdline.txt';
  const cmdline = await output(session, `cat ${FIRMWARE_DIR}/cmdline.txt`);
  const script = await output(session, `test -e ${FIRMWARE_DIR}/firstrun.sh && echo present || echo gone`);
  if (/systemd\.run=/.test(cmdline)) return fail(name, `cmdline.txt still has systemd.run=: ${cmdline}`);
  if (script !== 'gone') return fail(name, 'firstrun.sh is still on the boot partition');
  return pass(name, 'no systemd.run= in cmdline.txt; firstrun.sh gone');
}

/** sshd -T needs a readable host key; as the (non-root) user, a throw-away one stands in. */
export async function checkSshdKeyOnly(session: SshSession): Promise<CheckResult> {
  const name = 'sshd -T: key-only login';
  const text = await output(
    session,
    'k=$(mktemp -u) && ssh-keygen -q -t ed25519 -N "" -f "$k" && /usr/sbin/sshd -T -h "$k"; rm -f "$k" "$k.pub"',
  );
  const setting = (key: string): string | undefined =>
    new RegExp(`^${key} (.*)$`, 'm').exec(text)?.[1]?.trim();
  const want: Record<string, string> = {
    passwordauthentication: 'no',
    kbdinteractiveauthentication: 'no',
    pubkeyauthentication: 'yes',
  };
  const wrong = Object.entries(want)
    .filter(([key, value]) => setting(key) !== value)
    .map(([key, value]) => `${key} is ${setting(key) ?? 'missing'} (want ${value})`);
  if (wrong.length > 0) return fail(name, wrong.join('; ') + (text.includes('\n') ? '' : `: ${text}`));
  return pass(
    name,
    Object.entries(want)
      .map(([key, value]) => `${key} ${value}`)
      .join(', '),
  );
}

export async function checkImageMarker(session: SshSession, expect: HostExpectation): Promise<CheckResult> {
  const name = `image marker names ${expect.host} ${expect.version}`;
  const text = await output(session, `cat ${FIRMWARE_DIR}${IMAGE_MARKER_PATH}`);
  try {
    const marker = parseMarker(text, `${FIRMWARE_DIR}${IMAGE_MARKER_PATH}`);
    return marker.host === expect.host && marker.version === expect.version
      ? pass(name, `${expect.host} ${expect.version}`)
      : fail(name, `the marker says ${marker.host} ${marker.version}`);
  } catch {
    return fail(name, `no readable marker at ${FIRMWARE_DIR}${IMAGE_MARKER_PATH}: ${text}`);
  }
}
