import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Manifest } from '../image/manifest.ts';
import { IMAGE_MARKER_PATH } from '../image/marker.ts';

/*
 * Drift: every file the bake wrote (the manifest's `written`), compared with the running host.
 * Reported, never corrected. Its first boot changes two of them on purpose: Imager's firstrun.sh
 * removes itself and its hook from cmdline.txt; those are expected, not drift.
 */

export const BOOT_MOUNT = '/boot/firmware';

/** What the host should hold at one path, from the manifest. */
export interface ExpectedFile {
  readonly path: string;
  /** On the FAT boot partition: modes and owners mean nothing there. */
  readonly onBoot: boolean;
  readonly expect:
    { readonly sha256: string; readonly mode: number; readonly owner: string } | { readonly linkTo: string };
}

/** What the host holds at one path, as the drift script printed it. */
export type FoundFile =
  | { readonly kind: 'file'; readonly sha256: string; readonly mode: number; readonly owner: string }
  | { readonly kind: 'link'; readonly linkTo: string }
  | { readonly kind: 'unreadable' }
  | { readonly kind: 'missing' };

export interface DriftFinding {
  readonly path: string;
  readonly what: string;
}

export interface Drift {
  readonly checked: number;
  readonly changed: readonly DriftFinding[];
  /** Changed by the image's own first boot, as it should be. */
  readonly firstBoot: readonly DriftFinding[];
  /** Readable by root only, and root was not available (sudo asks for a password): not compared. */
  readonly unverified: readonly string[];
}

/** The files to compare, with their paths on the running host. */
export function expectedFiles(manifest: Manifest): ExpectedFile[] {
  const bootDevice = Object.entries(manifest.written).find(([, files]) => IMAGE_MARKER_PATH in files)?.[0];
  return Object.entries(manifest.written).flatMap(([device, files]) =>
    Object.entries(files).map(([file, described]): ExpectedFile => {
      const onBoot = device === bootDevice;
      const where = onBoot ? path.posix.join(BOOT_MOUNT, file) : file;
      if (described.startsWith('-> ')) return { path: where, onBoot, expect: { linkTo: described.slice(3) } };
      const [hash = '', mode = '0', owner = ''] = described.split(' ');
      return {
        path: where,
        onBoot,
        expect: { sha256: hash.replace(/^sha256:/, ''), mode: Number.parseInt(mode, 8), owner },
      };
    }),
  );
}

/** `F<TAB>path<TAB>sha256<TAB>mode uid:gid`, `L<TAB>path<TAB>target` or `M<TAB>path`, one per line. */
export function parseFoundFiles(output: string): Map<string, FoundFile> {
  const found = new Map<string, FoundFile>();
  for (const line of output.split('\n')) {
    const [kind, file, first = '', second = ''] = line.split('\t');
    if (!file) continue;
    if (kind === 'F') {
      const [mode = '0', owner = ''] = second.split(' ');
      found.set(file, { kind: 'file', sha256: first, mode: Number.parseInt(mode, 8), owner });
    } else if (kind === 'L') found.set(file, { kind: 'link', linkTo: first });
    else if (kind === 'U') found.set(file, { kind: 'unreadable' });
    else if (kind === 'M') found.set(file, { kind: 'missing' });
  }
  return found;
}

const FIRST_BOOT_SCRIPTS = ['/boot/firstrun.sh', '/boot/firmware/firstrun.sh'];

/** Pure: what differs. `cmdlineText` is the host's cmdline.txt, to recognise the removed hook. */
export function compareDrift(
  expected: readonly ExpectedFile[],
  found: ReadonlyMap<string, FoundFile>,
  cmdlineText: string | undefined,
): Drift {
  const changed: DriftFinding[] = [];
  const firstBoot: DriftFinding[] = [];
  const unverified: string[] = [];
  for (const file of expected) {
    const seen = found.get(file.path) ?? { kind: 'missing' };
    if (seen.kind === 'unreadable') {
      unverified.push(file.path);
      continue;
    }
    const what = difference(file, seen);
    if (what === undefined) continue;
    const name = path.posix.basename(file.path);
    if (file.onBoot && name === 'firstrun.sh' && what === 'missing')
      firstBoot.push({ path: file.path, what: 'removed itself on the first boot' });
    else if (file.onBoot && name === 'cmdline.txt' && hookRemoved(file, cmdlineText))
      firstBoot.push({ path: file.path, what: 'its first-boot hook was removed on the first boot' });
    else changed.push({ path: file.path, what });
  }
  return { checked: expected.length - unverified.length, changed, firstBoot, unverified };
}

function difference(
  file: ExpectedFile,
  found: Exclude<FoundFile, { kind: 'unreadable' }>,
): string | undefined {
  if (found.kind === 'missing') return 'missing';
  if ('linkTo' in file.expect) {
    if (found.kind !== 'link') return `a ${found.kind}, not a symlink to ${file.expect.linkTo}`;
    return found.linkTo === file.expect.linkTo
      ? undefined
      : `points to ${found.linkTo}, not ${file.expect.linkTo}`;
  }
  if (found.kind === 'link') return `a symlink to ${found.linkTo}, not a file`;
  const problems: string[] = [];
  if (found.sha256 !== file.expect.sha256) problems.push('content changed');
  if (!file.onBoot && found.mode !== file.expect.mode)
    problems.push(`mode ${octal(found.mode)}, baked ${octal(file.expect.mode)}`);
  if (!file.onBoot && found.owner !== file.expect.owner)
    problems.push(`owner ${found.owner}, baked ${file.expect.owner}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** Imager's `sed -i 's| systemd.run.*||g'` cut the line here: put each known hook back and compare. */
function hookRemoved(file: ExpectedFile, cmdlineText: string | undefined): boolean {
  if (cmdlineText === undefined || !('sha256' in file.expect) || cmdlineText.includes('systemd.run'))
    return false;
  const expectedHash = file.expect.sha256;
  return FIRST_BOOT_SCRIPTS.some((script) => {
    const hook = ` systemd.run=${script} systemd.run_success_action=reboot systemd.unit=kernel-command-line.target`;
    const baked = cmdlineText.replace(/(\r?\n)?$/, `${hook}$1`);
    return createHash('sha256').update(baked).digest('hex') === expectedHash;
  });
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** Reads each path on stdin; a file this user may not read is `U` (run again as root when sudo allows). */
export const DRIFT_SCRIPT = [
  'while IFS= read -r p; do',
  '  if [ -L "$p" ]; then printf "L\\t%s\\t%s\\n" "$p" "$(readlink "$p")"',
  '  elif ! out=$(LC_ALL=C stat -c "%a %u:%g" -- "$p" 2>&1); then',
  '    case "$out" in *"ermission denied"*) printf "U\\t%s\\n" "$p" ;; *) printf "M\\t%s\\n" "$p" ;; esac',
  '  elif [ ! -f "$p" ]; then printf "M\\t%s\\n" "$p"',
  '  elif [ ! -r "$p" ]; then printf "U\\t%s\\n" "$p"',
  '  else printf "F\\t%s\\t%s\\t%s\\n" "$p" "$(sha256sum < "$p" | cut -c1-64)" "$out"; fi',
  'done',
].join('\n');
