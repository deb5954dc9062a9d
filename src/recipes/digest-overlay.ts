import { createHash } from 'node:crypto';
import path from 'node:path';
import type { OverlayEntry, OverlaySymlink } from './recipe-types.ts';

/**
 * Every field is length-delimited so that no two different overlays hash the same; paths are relative to the
 * overlay so the digest does not depend on where the project is checked out.
 */
export function digestOverlay(
  dir: string,
  entries: readonly OverlayEntry[],
  symlinks: readonly OverlaySymlink[],
  attributesFile: Buffer | undefined,
): string {
  const hash = createHash('sha256');
  const field = (value: string | Buffer): void => {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  };
  field('overlay-digest-v1');
  for (const entry of entries) {
    field('file');
    field(entry.target);
    field(entry.path);
    field(path.relative(dir, entry.source).split(path.sep).join('/'));
    field(entry.mode.toString(8));
    field(`${entry.uid}:${entry.gid}`);
    field(entry.bytes);
  }
  for (const symlink of symlinks) {
    field('symlink');
    field(symlink.path);
    field(symlink.linkTo);
  }
  if (attributesFile) {
    field('attributes');
    field(attributesFile);
  } else field('no-attributes');
  return hash.digest('hex');
}
