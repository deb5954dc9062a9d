import { SAMPLE_PASSWORD_HASH, SAMPLE_SSH_PUBLIC_KEY, SAMPLE_WLAN } from './firstrun-script.ts';
import { SAMPLE_EPOCH_SECONDS } from './sample-layout.ts';

export const SAMPLE_INSTANCE_ID = `rpi-imager-${SAMPLE_EPOCH_SECONDS * 1000}`;

/** The NoCloud seed files Raspberry Pi Imager writes to the boot partition. */
export function renderCloudInitFiles(
  hostname: string,
  publicKey: string = SAMPLE_SSH_PUBLIC_KEY,
): Record<'user-data' | 'meta-data' | 'network-config', string> {
  const { ssid, psk, country } = SAMPLE_WLAN;
  const userData = [
    '#cloud-config',
    '',
    `hostname: ${hostname}`,
    'manage_etc_hosts: true',
    'packages:',
    '- avahi-daemon',
    'apt:',
    '  conf: |',
    '    Acquire {',
    '      Check-Date "false";',
    '    };',
    '',
    'timezone: Europe/London',
    'keyboard:',
    '  model: pc105',
    '  layout: "gb"',
    '',
    'users:',
    '- name: pi',
    '  groups: users,adm,dialout,audio,netdev,video,plugdev,cdrom,games,input,gpio,spi,i2c,render,sudo',
    '  shell: /bin/bash',
    '  lock_passwd: false',
    `  passwd: ${SAMPLE_PASSWORD_HASH}`,
    '  ssh_authorized_keys:',
    `    - ${publicKey}`,
    '  sudo: ALL=(ALL) NOPASSWD:ALL',
    '',
    'ssh_pwauth: false',
    '',
    'runcmd:',
    `  - sed -i 's/^s*REGDOMAIN=S*/REGDOMAIN=${country}/' /etc/default/crda || true`,
    '  - rfkill unblock wifi',
    '  - for filename in /var/lib/systemd/rfkill/*:wlan ; do echo 0 > $filename; done',
    '',
  ].join('\n');
  const networkConfig = [
    'network:',
    '  version: 2',
    '  wifis:',
    '    renderer: NetworkManager',
    '    wlan0:',
    '      dhcp4: true',
    `      regulatory-domain: "${country}"`,
    '      access-points:',
    `        "${ssid}":`,
    `          password: "${psk}"`,
    '      optional: true',
    '',
  ].join('\n');
  return {
    'user-data': userData,
    'meta-data': `instance-id: ${SAMPLE_INSTANCE_ID}\n`,
    'network-config': networkConfig,
  };
}
