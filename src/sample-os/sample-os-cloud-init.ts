import { SAMPLE_INSTANCE_ID } from '../sample/cloud-init-files.ts';
import { SAMPLE_PASSWORD_HASH } from '../sample/firstrun-script.ts';
import { SAMPLE_USER } from './sample-os-spec.ts';

/**
 * The NoCloud seed Imager writes, limited to what this image can apply without the internet: the
 * hostname, /etc/hosts, the time zone, the user with its key, password login off. (Imager's Wi-Fi
 * network-config and keyboard need hardware and packages a virtual machine does not have.)
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
    'ssh_pwauth: false',
    '',
  ].join('\n');
  return { 'user-data': userData, 'meta-data': `instance-id: ${SAMPLE_INSTANCE_ID}\n` };
}

/** Raspberry Pi OS points NoCloud at its boot partition (Debian looks for a `cidata` label). */
export const CLOUD_INIT_SEED_CONFIG = 'datasource:\n  NoCloud:\n    fs_label: bootfs\n';
