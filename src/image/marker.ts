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

/**
 * A marker a host printed as base64 (one line, whatever its contents); undefined when it has none
 * or one pi-lab did not write: the host is then simply not on a pi-lab image.
 */
export function markerFromBase64(base64: string): ImageMarker | undefined {
  if (!base64) return undefined;
  try {
    return parseMarker(Buffer.from(base64, 'base64').toString('utf8'), IMAGE_MARKER_PATH);
  } catch {
    return undefined;
  }
}
