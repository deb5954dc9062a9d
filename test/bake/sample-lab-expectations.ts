import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { MANIFEST_FILE, parseManifest } from '../../src/image/manifest.ts';
import { PROJECT_DIR } from '../helpers/bake-cli.ts';

/** What baking recipes/lab.yaml must put into the images, written out by hand from the lab file. */

export const SAMPLE_HOSTS = ['pi0', 'pi1', 'pi2', 'pi3'] as const;
export const NODE_HOSTS = ['pi1', 'pi2', 'pi3'] as const;
export const PLACEHOLDER = 'changeme';
export const NODE_CONFIG_LINE = 'dtoverlay=disable-wifi';

/** Every lab host with a mac and an ip, in lab order: the router's dhcp-host lines. */
export const SAMPLE_DHCP_HOSTS = [
  'dhcp-host=d8:3a:dd:f7:78:e0,192.168.87.101,pi1',
  'dhcp-host=d8:3a:dd:f7:77:d8,192.168.87.102,pi2',
  'dhcp-host=d8:3a:dd:e9:d4:3e,192.168.87.103,pi3',
  'dhcp-host=1c:69:7a:a2:6f:89,192.168.87.2,data1',
];

export const SSH_DROP_IN = 'etc/ssh/sshd_config.d/10-key-only.conf';

/** A file of the repository's overlays, as bytes (for comparing what landed in an image). */
export function overlaySource(relative: string): Promise<string> {
  return readFile(path.join(PROJECT_DIR, 'overlays', relative), 'utf8');
}

export function countOf(text: string, word: string): number {
  return text.split(word).length - 1;
}

/** The marker the bake writes at /pi-lab-image.json of the boot partition. */
export interface ImageMarker {
  readonly host: string;
  readonly version: string;
}

export interface ManifestView {
  readonly host: string;
  readonly version: string;
  readonly partitions: Readonly<
    Record<string, { readonly action: string; readonly files: readonly string[] }>
  >;
}

export async function readManifest(imageDir: string): Promise<ManifestView> {
  const file = path.join(imageDir, MANIFEST_FILE);
  return parseManifest(await readFile(file, 'utf8'), file);
}

/**
 * firstrun.sh of a baked host: the clean script with every "changeme" replaced by the host's name,
 * and no "changeme" left at all.
 */
export function assertFirstrunNames(t: ExecutionContext, baked: string, clean: string, host: string): void {
  t.true(countOf(clean, PLACEHOLDER) >= 2, 'the clean firstrun.sh sets the hostname in several places');
  t.is(baked, clean.replaceAll(PLACEHOLDER, host));
  t.is(countOf(baked.toLowerCase(), PLACEHOLDER), 0);
}

/** config.txt of a node whose clean config.txt ends inside [cm5]: the line under a new [all], once. */
export function assertNodeConfigTxt(t: ExecutionContext, baked: string, clean: string): void {
  t.regex(clean, /\[cm5\]\n[^[]*$/, 'the clean config.txt ends inside [cm5]');
  t.is(baked, `${clean}[all]\n${NODE_CONFIG_LINE}\n`);
  t.true(baked.endsWith(`[all]\n${NODE_CONFIG_LINE}\n`));
  t.is(baked.split('\n').filter((line) => line.trim() === NODE_CONFIG_LINE).length, 1);
}
