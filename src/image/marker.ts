import { z } from 'zod';
import { parseContractJson } from './contract-json.ts';

/** Where, on the boot partition, a baked disk says which host and version it holds. */
export const IMAGE_MARKER_PATH = '/pi-lab-image.json';

const markerSchema = z.object({
  host: z.string().min(1),
  version: z.string().min(1),
  inputKey: z.string(),
});

export type ImageMarker = Readonly<z.infer<typeof markerSchema>>;

export function renderMarker(marker: ImageMarker): string {
  const { host, version, inputKey } = marker;
  return `${JSON.stringify({ host, version, inputKey }, null, 2)}\n`;
}

/** Parses a marker read from `where` (a disk, a running host); a damaged one is refused. */
export function parseMarker(text: string, where: string): ImageMarker {
  return parseContractJson(text, {
    where,
    what: 'pi-lab image marker',
    schema: markerSchema,
    remedy: 'the disk was not written by pi-lab, or was changed since: deploy the host again',
  });
}
