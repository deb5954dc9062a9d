/*
 * The lab's security checklist, judged from what a host prints (see AUDIT_SCRIPT): SSH by key only
 * and no root login (`sshd -T`), no password-less sudo (`sudo -l`), a password set on the login
 * user (so sudo can ask for it), and which TCP ports listen. Pure: every finding with its fix.
 */

export interface AuditFinding {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  /** What to do, for a failed check. */
  readonly fix?: string;
}

export interface AuditFacts {
  readonly user: string;
  readonly sshd: string;
  readonly sudo: string;
  readonly passwd: string;
  readonly listen: string;
}

/** Each section after a `== name` line; sshd -T runs as the user with a throw-away host key. */
export const AUDIT_SCRIPT = [
  'echo "== sshd"',
  'k=$(mktemp -u) && ssh-keygen -q -t ed25519 -N "" -f "$k" && /usr/sbin/sshd -T -h "$k" 2>&1; rm -f "$k" "$k.pub"',
  'echo "== sudo"',
  'LC_ALL=C sudo -n -l 2>&1',
  'echo "== passwd"',
  'LC_ALL=C passwd -S 2>&1',
  'echo "== listen"',
  'ss -H -tln 2>&1',
].join('\n');

export function parseAuditOutput(user: string, output: string): AuditFacts {
  const sections = new Map<string, string[]>();
  let current = '';
  for (const line of output.split('\n')) {
    const header = /^== (\w+)$/.exec(line);
    if (header) current = header[1] ?? '';
    else sections.set(current, [...(sections.get(current) ?? []), line]);
  }
  const text = (name: string) => (sections.get(name) ?? []).join('\n').trim();
  return { user, sshd: text('sshd'), sudo: text('sudo'), passwd: text('passwd'), listen: text('listen') };
}

const SSHD_WANT: readonly (readonly [string, string, string])[] = [
  ['passwordauthentication', 'no', 'PasswordAuthentication no'],
  ['kbdinteractiveauthentication', 'no', 'KbdInteractiveAuthentication no'],
  ['pubkeyauthentication', 'yes', 'PubkeyAuthentication yes'],
  ['permitrootlogin', 'no', 'PermitRootLogin no'],
];

/** Where an sshd setting is fixed: a baked system gets it from the common overlay, others by hand. */
const SSHD_FIX_PLACE = {
  baked: 'in an /etc/ssh/sshd_config.d/ drop-in (the common overlay has one: bake and deploy again)',
  unbaked:
    'in an /etc/ssh/sshd_config.d/ drop-in on that system (pi-lab does not bake it), then: sudo systemctl reload ssh',
} as const;

/** `system`: whether pi-lab bakes what runs there (a host's own system) or not (an SD imager, data1). */
export function auditFindings(facts: AuditFacts, system: keyof typeof SSHD_FIX_PLACE): AuditFinding[] {
  return [
    ...sshdFindings(facts.sshd, SSHD_FIX_PLACE[system]),
    sudoFinding(facts),
    passwordFinding(facts),
    listenFinding(facts.listen),
  ];
}

function sshdFindings(sshd: string, fixPlace: string): AuditFinding[] {
  const setting = (key: string) => new RegExp(`^${key} (.*)$`, 'm').exec(sshd)?.[1]?.trim();
  if (setting('pubkeyauthentication') === undefined)
    return [{ check: 'sshd -T', ok: false, detail: `could not read sshd's settings: ${firstLine(sshd)}` }];
  return SSHD_WANT.map(([key, want, line]) => {
    const value = setting(key) ?? 'missing';
    return value === want
      ? { check: `sshd ${key}`, ok: true, detail: value }
      : {
          check: `sshd ${key}`,
          ok: false,
          detail: `${value}, want ${want}`,
          fix: `${line} ${fixPlace}`,
        };
  });
}

function sudoFinding(facts: AuditFacts): AuditFinding {
  const check = 'sudo asks for a password';
  if (/NOPASSWD/.test(facts.sudo))
    return {
      check,
      ok: false,
      detail: `${facts.user} may sudo without a password`,
      fix: `remove NOPASSWD for ${facts.user} (sudo grep -r NOPASSWD /etc/sudoers /etc/sudoers.d), then give pi-lab the sudo password (PI_LAB_SUDO_PASSWORD)`,
    };
  if (/password is required|may run the following|not allowed to run sudo|may not run sudo/i.test(facts.sudo))
    return { check, ok: true, detail: firstLine(facts.sudo) };
  return { check, ok: false, detail: `sudo -l said: ${firstLine(facts.sudo)}` };
}

/** `passwd -S`: `<user> P|L|NP <date> …`: a usable password, a locked one, or none. */
function passwordFinding(facts: AuditFacts): AuditFinding {
  const check = `${facts.user} has a password`;
  const state = facts.passwd.split(/\s+/)[1];
  if (state === 'P') return { check, ok: true, detail: 'set' };
  const detail =
    state === 'NP' ? 'no password' : state === 'L' ? 'locked' : `passwd -S said: ${firstLine(facts.passwd)}`;
  return {
    check,
    ok: false,
    detail,
    fix: `set one on the host: sudo passwd ${facts.user} (sudo then asks for it)`,
  };
}

function listenFinding(listen: string): AuditFinding {
  const ports = [
    ...new Set(
      listen
        .split('\n')
        .map((line) => line.trim().split(/\s+/)[3] ?? '')
        .filter(Boolean),
    ),
  ].sort();
  return { check: 'listening TCP ports', ok: true, detail: ports.join(' ') || 'none' };
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? '(nothing)'
  );
}
