import type { Segment } from './file-segments.ts';

/** Where a segment's bytes already are on the share. */
export interface KnownSegment {
  readonly object: string;
  readonly offset: number;
}

export type Piece =
  /** Bytes copied on the far side from an object already stored. */
  | { readonly kind: 'copy'; readonly object: string; readonly offset: number; readonly length: number }
  /** Bytes sent, taken from `offset` of the local file. */
  | { readonly kind: 'send'; readonly offset: number; readonly length: number };

export interface Delta {
  readonly pieces: readonly Piece[];
  readonly sendBytes: number;
}

/** Pure: the file as copies of known segments and runs of bytes to send; neighbours merged. */
export function planDelta(segments: readonly Segment[], known: ReadonlyMap<string, KnownSegment>): Delta {
  const pieces: Piece[] = [];
  let sendBytes = 0;
  for (const segment of segments) {
    const found = known.get(segment.sha256);
    const last = pieces.at(-1);
    if (found) {
      if (
        last?.kind === 'copy' &&
        last.object === found.object &&
        last.offset + last.length === found.offset
      ) {
        pieces[pieces.length - 1] = { ...last, length: last.length + segment.length };
      } else {
        pieces.push({ kind: 'copy', object: found.object, offset: found.offset, length: segment.length });
      }
    } else {
      sendBytes += segment.length;
      if (last?.kind === 'send' && last.offset + last.length === segment.offset) {
        pieces[pieces.length - 1] = { ...last, length: last.length + segment.length };
      } else {
        pieces.push({ kind: 'send', offset: segment.offset, length: segment.length });
      }
    }
  }
  return { pieces, sendBytes };
}
