import type { ShareFs } from '../share/share-fs.ts';
import { SEGMENTS_DIR, segmentsPath } from '../share/share-layout.ts';
import type { Segment } from './file-segments.ts';
import type { KnownSegment } from './plan-delta.ts';

/** Stored as `[offset, length, sha256]` rows: a 700 MB image has some 8 000 of them. */
type Row = [number, number, string];

/** Every segment of every stored big file, by digest: what an upload may copy instead of send. */
export async function readKnownSegments(
  share: ShareFs,
  stored: ReadonlySet<string>,
): Promise<Map<string, KnownSegment>> {
  const known = new Map<string, KnownSegment>();
  for (const entry of await share.list(SEGMENTS_DIR)) {
    const object = entry.name.replace(/\.json$/, '');
    if (!stored.has(object)) continue;
    const text = await share.readText(segmentsPath(object));
    let rows: Row[] = [];
    try {
      rows = text === undefined ? [] : (JSON.parse(text) as Row[]);
    } catch {
      continue;
    }
    for (const [offset, , sha256] of rows) if (!known.has(sha256)) known.set(sha256, { object, offset });
  }
  return known;
}

export async function writeSegmentIndex(
  share: ShareFs,
  object: string,
  segments: readonly Segment[],
  scratch: string,
): Promise<void> {
  const rows: Row[] = segments.map((s) => [s.offset, s.length, s.sha256]);
  await share.mkdirp(SEGMENTS_DIR);
  const temporary = `${scratch}/${object}.segments`;
  await share.writeText(temporary, JSON.stringify(rows));
  await share.rename(temporary, segmentsPath(object));
}

export function addKnownSegments(
  known: Map<string, KnownSegment>,
  object: string,
  segments: readonly Segment[],
): void {
  for (const segment of segments)
    if (!known.has(segment.sha256)) known.set(segment.sha256, { object, offset: segment.offset });
}
