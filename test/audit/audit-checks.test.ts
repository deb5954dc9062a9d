import test from 'ava';
import { auditFindings, parseAuditOutput } from '../../src/audit/audit-checks.ts';

const SSHD_GOOD = [
  'port 22',
  'permitrootlogin no',
  'pubkeyauthentication yes',
  'passwordauthentication no',
  'kbdinteractiveauthentication no',
].join('\n');

function output(sections: { sshd: string; sudo: string; passwd: string; listen: string }): string {
  return `== sshd\n${sections.sshd}\n== sudo\n${sections.sudo}\n== passwd\n${sections.passwd}\n== listen\n${sections.listen}\n`;
}

test('a host as the checklist wants it passes every check, listing its ports', (t) => {
  const findings = auditFindings(
    parseAuditOutput(
      'pi',
      output({
        sshd: SSHD_GOOD,
        sudo: 'sudo: a password is required',
        passwd: 'pi P 2026-12-01 0 99999 7 -1',
        listen:
          'LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nLISTEN 0 128 [::]:22 [::]:*\nLISTEN 0 32 10.0.0.1:53 0.0.0.0:*',
      }),
    ),
    'baked',
  );
  t.true(
    findings.every((finding) => finding.ok),
    JSON.stringify(findings, null, 2),
  );
  t.is(findings.find((f) => f.check === 'listening TCP ports')?.detail, '0.0.0.0:22 10.0.0.1:53 [::]:22');
});

test('password login, root login, NOPASSWD and a missing password each fail with their fix', (t) => {
  const findings = auditFindings(
    parseAuditOutput(
      'pi',
      output({
        sshd: SSHD_GOOD.replace('passwordauthentication no', 'passwordauthentication yes').replace(
          'permitrootlogin no',
          'permitrootlogin without-password',
        ),
        sudo: 'User pi may run the following commands on pi1:\n    (ALL) NOPASSWD: ALL',
        passwd: 'pi NP 2026-12-01 0 99999 7 -1',
        listen: '',
      }),
    ),
    'baked',
  );
  const failed = findings.filter((finding) => !finding.ok);
  t.deepEqual(
    failed.map((finding) => [finding.check, finding.detail]),
    [
      ['sshd passwordauthentication', 'yes, want no'],
      ['sshd permitrootlogin', 'without-password, want no'],
      ['sudo asks for a password', 'pi may sudo without a password'],
      ['pi has a password', 'no password'],
    ],
  );
  t.regex(
    failed[0]?.fix ?? '',
    /^PasswordAuthentication no in an \/etc\/ssh\/sshd_config\.d\/ drop-in .*bake and deploy again/,
  );
  t.regex(failed[2]?.fix ?? '', /remove NOPASSWD for pi/);
  t.regex(failed[3]?.fix ?? '', /sudo passwd pi/);
});

test('an sshd that cannot print its settings is a failure, not a pass', (t) => {
  const findings = auditFindings(
    parseAuditOutput(
      'pi',
      output({ sshd: 'sh: 1: /usr/sbin/sshd: not found', sudo: '', passwd: '', listen: '' }),
    ),
    'baked',
  );
  t.deepEqual(findings[0], {
    check: 'sshd -T',
    ok: false,
    detail: "could not read sshd's settings: sh: 1: /usr/sbin/sshd: not found",
  });
});

test('on a system pi-lab does not bake (an SD imager, data1) the sshd fix is by hand, not a re-bake', (t) => {
  const findings = auditFindings(
    parseAuditOutput(
      'pi',
      output({
        sshd: SSHD_GOOD.replace('permitrootlogin no', 'permitrootlogin yes'),
        sudo: 'sudo: a password is required',
        passwd: 'pi P 2026-12-01 0 99999 7 -1',
        listen: '',
      }),
    ),
    'unbaked',
  );
  const rootLogin = findings.find((finding) => finding.check === 'sshd permitrootlogin');
  t.false(rootLogin?.ok);
  t.regex(
    rootLogin?.fix ?? '',
    /^PermitRootLogin no in an .* drop-in on that system .*sudo systemctl reload ssh$/,
  );
  t.notRegex(rootLogin?.fix ?? '', /deploy/);
});
