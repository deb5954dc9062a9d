import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describeError, UserError } from '../errors.ts';
import { closestName } from '../lab/closest-name.ts';
import { displayPath } from '../lab/display-path.ts';
import { checkKebabName } from '../lab/field-checks.ts';
import { parseWithSchema } from '../lab/parse-with-schema.ts';
import { formatPath, invalidFileError, type Problem } from '../lab/problem.ts';
import { findTemplateSyntaxError } from '../render/parse-template.ts';
import { digestOverlay } from './digest-overlay.ts';
import { listOverlayNames } from './list-project-names.ts';
import { ATTRIBUTES_FILE, listOverlayFiles, type OverlayFile } from './list-overlay-files.ts';
import { overlayFileSchema, type OverlayFileInput } from './overlay-schema.ts';
import type { Overlay, OverlayEntry, OverlaySymlink } from './recipe-types.ts';

export interface OverlayOptions {
  readonly projectDir: string;
}

const TEMPLATE_SUFFIX = '.mustache';
const DEFAULT_ATTRIBUTES = { mode: 0o644, uid: 0, gid: 0 };
/** The bake edits these itself: config.txt through a recipe's config_txt, cmdline.txt holds the root PARTUUID. */
const BAKE_OWNED_BOOT_FILES = ['/config.txt', '/cmdline.txt'];

/** Reads `overlays/<name>/`: its files, their attributes and symlinks; every problem in one UserError. */
export async function loadOverlay(name: string, options: OverlayOptions): Promise<Overlay> {
  const badName = checkKebabName(name);
  if (badName)
    throw new UserError(`"${name}" is not an overlay name`, [`${badName.message} — ${badName.fix}`]);
  const dir = path.join(options.projectDir, 'overlays', name);
  const shown = displayPath(dir, options.projectDir);
  await requireDirectory(dir, shown, options.projectDir);

  const tree = await listOverlayFiles(dir, shown);
  const problems: Problem[] = [...tree.problems];
  const attributesPath = path.join(dir, ATTRIBUTES_FILE);
  const attributesFile = tree.hasAttributesFile ? await readFile(attributesPath) : undefined;
  const attributes = parseAttributes(attributesFile, `${shown}/${ATTRIBUTES_FILE}`, problems);

  const read = await Promise.all(
    tree.files.map(async (file) => ({ file, bytes: await readOverlayFile(file, shown, problems) })),
  );
  const files = read.filter(
    (entry): entry is { file: OverlayFile; bytes: Buffer } => entry.bytes !== undefined,
  );
  const entries = files
    .map(({ file, bytes }) => toEntry(file, bytes, `${shown}/${file.target}`, problems))
    .sort(byTargetAndPath);
  problems.push(...findClashes(entries, `${shown}/rootfs`));
  const attributed = applyAttributes(entries, attributes, `${shown}/${ATTRIBUTES_FILE}`, problems);
  const symlinks = toSymlinks(attributes, attributed, `${shown}/${ATTRIBUTES_FILE}`, problems);
  if (problems.length > 0) throw invalidFileError(shown, 'overlay', problems);

  return {
    name,
    dir,
    entries: attributed,
    symlinks,
    digest: digestOverlay(dir, attributed, symlinks, attributesFile),
  };
}

/** An unreadable file is a problem of the overlay, named with the rest, not a crash. */
async function readOverlayFile(
  file: OverlayFile,
  shown: string,
  problems: Problem[],
): Promise<Buffer | undefined> {
  try {
    return await readFile(file.source);
  } catch (error) {
    problems.push({
      file: `${shown}/${file.target}${file.sourcePath}`,
      path: '',
      message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? describeError(error)})`,
      fix: 'make it readable by the user who bakes (e.g. chmod a+r), or remove it',
    });
    return undefined;
  }
}

async function requireDirectory(dir: string, shown: string, projectDir: string): Promise<void> {
  const isDirectory = await stat(dir).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (isDirectory) return;
  const available = (await listOverlayNames(projectDir)).join(', ') || 'none';
  throw new UserError(`overlay ${shown} does not exist`, [
    `${dir}: create it, or use an existing overlay (${available})`,
  ]);
}

function parseAttributes(bytes: Buffer | undefined, shown: string, problems: Problem[]): OverlayFileInput {
  const empty: OverlayFileInput = { rootfs: {}, symlinks: {} };
  if (!bytes) return empty;
  const parsed = parseWithSchema(bytes.toString('utf8'), overlayFileSchema);
  if (parsed.ok) return parsed.data;
  problems.push(...parsed.problems.map((problem) => ({ ...problem, file: shown })));
  return empty;
}

function toEntry(file: OverlayFile, bytes: Buffer, shownTarget: string, problems: Problem[]): OverlayEntry {
  const shown = `${shownTarget}${file.sourcePath}`;
  const template = file.sourcePath.endsWith(TEMPLATE_SUFFIX);
  const targetPath = template ? file.sourcePath.slice(0, -TEMPLATE_SUFFIX.length) : file.sourcePath;
  const problem = checkTargetPath(file.target, targetPath);
  if (problem) problems.push({ file: shown, path: '', ...problem });
  let text: string | undefined;
  if (template) {
    text = decodeTemplate(bytes, shown, problems);
    if (text !== undefined) checkTemplateSyntax(text, shown, problems);
  }
  return {
    target: file.target,
    path: targetPath,
    source: file.source,
    template,
    text,
    bytes,
    ...DEFAULT_ATTRIBUTES,
  };
}

function checkTargetPath(target: string, targetPath: string): { message: string; fix: string } | undefined {
  if (target === 'boot' && BAKE_OWNED_BOOT_FILES.includes(targetPath)) {
    return {
      message: 'would replace a boot file the bake edits',
      fix: "put config.txt lines in the recipe's config_txt; cmdline.txt is not overlaid",
    };
  }
  if (target === 'rootfs' && (targetPath === '/boot/firmware' || targetPath.startsWith('/boot/firmware/'))) {
    return { message: 'is on the boot partition, not the root file system', fix: 'move it under boot/' };
  }
  return undefined;
}

function decodeTemplate(bytes: Buffer, shown: string, problems: Problem[]): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    problems.push({ file: shown, path: '', message: 'is not UTF-8 text', fix: 'save it as UTF-8' });
    return undefined;
  }
}

function checkTemplateSyntax(text: string, shown: string, problems: Problem[]): void {
  const error = findTemplateSyntaxError(text);
  if (error) {
    const where = error.line === undefined ? '' : `line ${error.line}`;
    problems.push({ file: shown, path: where, message: `template syntax error: ${error.message}` });
  }
}

/** `x` and `x.mustache` would both become `x`. */
function findClashes(entries: readonly OverlayEntry[], shown: string): Problem[] {
  const seen = new Set<string>();
  return entries.flatMap((entry) => {
    const key = `${entry.target}:${entry.path}`;
    if (!seen.has(key)) {
      seen.add(key);
      return [];
    }
    return [
      {
        file: `${shown}${entry.path}`,
        path: '',
        message: `exists both as a file and as ${entry.path}${TEMPLATE_SUFFIX}`,
        fix: 'keep one of them',
      },
    ];
  });
}

function applyAttributes(
  entries: readonly OverlayEntry[],
  attributes: OverlayFileInput,
  shown: string,
  problems: Problem[],
): OverlayEntry[] {
  const rootfsPaths = entries.filter((entry) => entry.target === 'rootfs').map((entry) => entry.path);
  for (const key of Object.keys(attributes.rootfs)) {
    const where = { file: shown, path: formatPath(['rootfs', key]) };
    const problem = checkAbsolutePath(key);
    if (problem) problems.push({ ...where, ...problem, value: key });
    else if (!rootfsPaths.includes(key)) {
      const suggestion = closestName(key, rootfsPaths);
      problems.push({
        ...where,
        message: `names a file that does not exist: rootfs${key} (or rootfs${key}${TEMPLATE_SUFFIX})`,
        fix: suggestion ? `did you mean ${suggestion}?` : 'attributes name target paths, without .mustache',
      });
    }
  }
  return entries.map((entry) => {
    const own = entry.target === 'rootfs' ? attributes.rootfs[entry.path] : undefined;
    if (!own) return entry;
    return { ...entry, mode: own.mode ?? entry.mode, uid: own.uid ?? entry.uid, gid: own.gid ?? entry.gid };
  });
}

function toSymlinks(
  attributes: OverlayFileInput,
  entries: readonly OverlayEntry[],
  shown: string,
  problems: Problem[],
): OverlaySymlink[] {
  const rootfsPaths = new Set(
    entries.filter((entry) => entry.target === 'rootfs').map((entry) => entry.path),
  );
  const symlinks: OverlaySymlink[] = [];
  for (const [linkPath, linkTo] of Object.entries(attributes.symlinks)) {
    const where = { file: shown, path: formatPath(['symlinks', linkPath]) };
    const problem = checkAbsolutePath(linkPath);
    if (problem) problems.push({ ...where, ...problem, value: linkPath });
    else if (rootfsPaths.has(linkPath)) {
      problems.push({
        ...where,
        message: 'is also a file in rootfs/',
        fix: 'keep either the file or the symlink',
      });
    } else symlinks.push({ target: 'rootfs', path: linkPath, linkTo });
  }
  return symlinks.sort(byTargetAndPath);
}

/** Code-unit order, independent of locale and of the order the file system lists directories in. */
function byTargetAndPath(a: { target: string; path: string }, b: { target: string; path: string }): number {
  const left = `${a.target}:${a.path}`;
  const right = `${b.target}:${b.path}`;
  return left < right ? -1 : left > right ? 1 : 0;
}

function checkAbsolutePath(value: string): { message: string; fix: string } | undefined {
  if (
    value.startsWith('/') &&
    value.length > 1 &&
    path.posix.normalize(value) === value &&
    !value.endsWith('/')
  ) {
    return undefined;
  }
  return { message: 'is not an absolute, normalised path', fix: 'write it like /etc/example.conf' };
}
