import type { ImagerStyle } from './sample-layout.ts';

export const SAMPLE_SSH_PUBLIC_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeSampleKeyForTestsOnlyNotARealKeyAtAll0000 lab-admin@sample';
/** Not a real password hash: the sample must never grant a login. */
export const SAMPLE_PASSWORD_HASH = '$5$SampleSalt$FakeHashForTestsOnlyNotARealPasswordHash.0000000';
export const SAMPLE_WLAN = {
  ssid: 'HomeNet',
  psk: 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00',
  country: 'GB',
};

export interface FirstrunOptions {
  /** The key Imager installs for the user (default: a fake one that can never log in). */
  readonly publicKey?: string;
  /** Where the script and cmdline.txt are seen at boot: Imager writes /boot; Bookworm mounts the FAT at /boot/firmware. */
  readonly bootDir?: string;
}

/** firstrun.sh in the form Raspberry Pi Imager writes it (1.8: bash and backticks; 2.x: sh and `$(...)`). */
export function renderFirstrunScript(
  hostname: string,
  style: ImagerStyle,
  options: FirstrunOptions = {},
): string {
  const publicKey = options.publicKey ?? SAMPLE_SSH_PUBLIC_KEY;
  const bootDir = options.bootDir ?? '/boot';
  const sub = (cmd: string): string => (style === '1.8' ? `\`${cmd}\`` : `$(${cmd})`);
  const installKey =
    style === '1.8'
      ? [`   install -o "$FIRSTUSER" -m 600 <(printf "${publicKey}") "$FIRSTUSERHOME/.ssh/authorized_keys"`]
      : [
          `   printf '%s\\n' '${publicKey}' >"$FIRSTUSERHOME/.ssh/authorized_keys"`,
          '   chown "$FIRSTUSER:" "$FIRSTUSERHOME/.ssh/authorized_keys"',
          '   chmod 600 "$FIRSTUSERHOME/.ssh/authorized_keys"',
        ];
  const { ssid, psk, country } = SAMPLE_WLAN;
  return [
    style === '1.8' ? '#!/bin/bash' : '#!/bin/sh',
    '',
    'set +e',
    '',
    `CURRENT_HOSTNAME=${sub('cat /etc/hostname | tr -d " \\t\\n\\r"')}`,
    'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
    `   /usr/lib/raspberrypi-sys-mods/imager_custom set_hostname ${hostname}`,
    'else',
    `   echo ${hostname} >/etc/hostname`,
    `   sed -i "s/127.0.1.1.*$CURRENT_HOSTNAME/127.0.1.1\\t${hostname}/g" /etc/hosts`,
    'fi',
    `FIRSTUSER=${sub('getent passwd 1000 | cut -d: -f1')}`,
    `FIRSTUSERHOME=${sub('getent passwd 1000 | cut -d: -f6')}`,
    'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
    `   /usr/lib/raspberrypi-sys-mods/imager_custom enable_ssh -k '${publicKey}'`,
    'else',
    '   install -o "$FIRSTUSER" -m 700 -d "$FIRSTUSERHOME/.ssh"',
    ...installKey,
    "   echo 'PasswordAuthentication no' >>/etc/ssh/sshd_config",
    '   systemctl enable ssh',
    'fi',
    'if [ -f /usr/lib/userconf-pi/userconf ]; then',
    `   /usr/lib/userconf-pi/userconf 'pi' '${SAMPLE_PASSWORD_HASH}'`,
    'else',
    `   echo "$FIRSTUSER:"'${SAMPLE_PASSWORD_HASH}' | chpasswd -e`,
    '   if [ "$FIRSTUSER" != "pi" ]; then',
    '      usermod -l "pi" "$FIRSTUSER"',
    '      usermod -m -d "/home/pi" "pi"',
    '      groupmod -n "pi" "$FIRSTUSER"',
    '      if grep -q "^autologin-user=" /etc/lightdm/lightdm.conf ; then',
    '         sed /etc/lightdm/lightdm.conf -i -e "s/^autologin-user=.*/autologin-user=pi/"',
    '      fi',
    '      if [ -f /etc/systemd/system/getty@tty1.service.d/autologin.conf ]; then',
    '         sed /etc/systemd/system/getty@tty1.service.d/autologin.conf -i -e "s/$FIRSTUSER/pi/"',
    '      fi',
    '      if [ -f /etc/sudoers.d/010_pi-nopasswd ]; then',
    '         sed -i "s/^$FIRSTUSER /pi /" /etc/sudoers.d/010_pi-nopasswd',
    '      fi',
    '   fi',
    'fi',
    'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
    `   /usr/lib/raspberrypi-sys-mods/imager_custom set_wlan '${ssid}' '${psk}' '${country}'`,
    'else',
    "cat >/etc/wpa_supplicant/wpa_supplicant.conf <<'WPAEOF'",
    `country=${country}`,
    'ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=netdev',
    'ap_scan=1',
    '',
    'update_config=1',
    'network={',
    `\tssid="${ssid}"`,
    `\tpsk=${psk}`,
    '}',
    '',
    'WPAEOF',
    '   chmod 600 /etc/wpa_supplicant/wpa_supplicant.conf',
    '   rfkill unblock wifi',
    '   for filename in /var/lib/systemd/rfkill/*:wlan ; do',
    '       echo 0 > $filename',
    '   done',
    'fi',
    'if [ -f /usr/lib/raspberrypi-sys-mods/imager_custom ]; then',
    "   /usr/lib/raspberrypi-sys-mods/imager_custom set_keymap 'gb'",
    "   /usr/lib/raspberrypi-sys-mods/imager_custom set_timezone 'Europe/London'",
    'else',
    '   rm -f /etc/localtime',
    '   echo "Europe/London" >/etc/timezone',
    '   dpkg-reconfigure -f noninteractive tzdata',
    "cat >/etc/default/keyboard <<'KBEOF'",
    'XKBMODEL="pc105"',
    'XKBLAYOUT="gb"',
    'XKBVARIANT=""',
    'XKBOPTIONS=""',
    '',
    'KBEOF',
    '   dpkg-reconfigure -f noninteractive keyboard-configuration',
    'fi',
    `rm -f ${bootDir}/firstrun.sh`,
    `sed -i 's| systemd.run.*||g' ${bootDir}/cmdline.txt`,
    'exit 0',
    '',
  ].join('\n');
}
