import { SAMPLE_INSTANCE_ID } from '../sample/cloud-init-files.ts';
import { SAMPLE_PASSWORD_HASH } from '../sample/firstrun-script.ts';

/** The user Imager creates (firstrun.sh renames uid 1000 to it; cloud-init creates it). */
export const SAMPLE_USER = 'pi';

/**
 * The NoCloud seed Imager writes, limited to what this image can apply without the internet: the
 * hostname, /etc/hosts, the time zone, the user with its key. (Imager's Wi-Fi network-config and
 * keyboard need hardware and packages a virtual machine does not have; its `ssh_pwauth: false`
 * makes cloud-init write a root-only sshd drop-in that `sshd -T` cannot read as the user, and the
 * common overlay turns password login off anyway.)
 */
export function bootableCloudInitFiles(
  placeholder: string,
  publicKey: string,
): Record<'user-data' | 'meta-data', string> {
  const userData = [
    '#cloud-config',
    '',
    `hostname: ${placeholder}`,
    'manage_etc_hosts: true',
    'timezone: Europe/London',
    // C.UTF-8 is built into glibc: cloud-init's default (en_US.UTF-8) would need locale-gen first.
    'locale: C.UTF-8',
    '',
    'users:',
    `- name: ${SAMPLE_USER}`,
    '  groups: users,adm,netdev,sudo',
    '  shell: /bin/bash',
    '  lock_passwd: false',
    `  passwd: ${SAMPLE_PASSWORD_HASH}`,
    '  ssh_authorized_keys:',
    `    - ${publicKey}`,
    '',
  ].join('\n');
  return { 'user-data': userData, 'meta-data': `instance-id: ${SAMPLE_INSTANCE_ID}\n` };
}

/** Raspberry Pi OS points NoCloud at its boot partition (Debian looks for a `cidata` label). */
export const CLOUD_INIT_SEED_CONFIG = 'datasource:\n  NoCloud:\n    fs_label: bootfs\n';
