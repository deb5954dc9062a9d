import test from 'ava';
import { chooseAccel, probeAccel } from '../../src/boot-test/choose-accel.ts';

/*
 * /dev/kvm can exist and still be unusable (on this kind of machine QEMU aborts with "failed to set
 * MSR"), so KVM is chosen only when QEMU's firmware really runs under it. The probe runs the real
 * QEMU: under software emulation it must succeed, and a QEMU that cannot start must be reported
 * with what it said.
 */

test('probe: the firmware runs under software emulation', async (t) => {
  t.deepEqual(await probeAccel('tcg'), { ok: true });
});

test('probe: a QEMU that cannot start is reported with its own error line', async (t) => {
  const probe = await probeAccel('tcg', ['-machine', 'no-such-machine']);
  t.false(probe.ok);
  t.regex(probe.why ?? '', /no-such-machine|unsupported machine type/i);
});

test('choose: PI_LAB_BOOT_ACCEL=tcg forces software emulation without probing', async (t) => {
  t.deepEqual(await chooseAccel({ PI_LAB_BOOT_ACCEL: 'tcg' }), { accel: 'tcg' });
});

test('choose: KVM exactly when the firmware runs under it, with the reason when it does not', async (t) => {
  const choice = await chooseAccel({});
  const probe = await probeAccel('kvm');
  t.is(choice.accel, probe.ok ? 'kvm' : 'tcg', JSON.stringify({ choice, probe }));
  if (choice.kvmUnusable !== undefined) t.regex(choice.kvmUnusable, /\S/);
});
