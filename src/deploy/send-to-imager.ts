import { bootloaderDate } from '../values/pi-facts.ts';
import type { RemoteHost } from './remote-port.ts';
import { disableUsbBoot, readBootloaderVersion, reboot, setOneShotSdBoot } from './remote-commands.ts';

/** The first bootloader that honours a one-shot boot order set through the mailbox. */
export const ONE_SHOT_BOOT_SINCE = '2025-01-14';

export type ImagerRoute = 'one-shot boot order' | 'USB boot partition disabled';

/**
 * Reboots a node running from USB into its SD imager: with the one-shot boot order when the
 * bootloader knows it (nothing on the disk changes), else by renaming the USB boot partition's
 * config.txt (the restore writes a new boot partition anyway). Never formats anything.
 */
export async function sendToImager(session: RemoteHost, timeoutSeconds: number): Promise<ImagerRoute> {
  const version = await session.exec(readBootloaderVersion(), { timeoutSeconds });
  const date = bootloaderDate(version.stdout);
  let route: ImagerRoute;
  if (version.exitCode === 0 && date !== undefined && date >= ONE_SHOT_BOOT_SINCE) {
    await session.root.run(setOneShotSdBoot(), { timeoutSeconds });
    route = 'one-shot boot order';
  } else {
    await session.root.run(disableUsbBoot(), { timeoutSeconds });
    route = 'USB boot partition disabled';
  }
  await rebootNow(session);
  return route;
}

/** The connection dies with the reboot: that is the expected outcome, not an error. */
export async function rebootNow(session: RemoteHost): Promise<void> {
  await session.root.exec(reboot(), { timeoutSeconds: 20 }).catch(() => undefined);
  await session.close();
}
