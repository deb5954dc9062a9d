/*
 * The TP-Link Kasa local protocol's framing on TCP port 9999: JSON text, "encrypted" with an XOR
 * autokey cipher whose key starts at 171 and is then each ciphertext byte, behind a 4-byte
 * big-endian length. No authentication: anyone on the network can switch the plug.
 */

const INITIAL_KEY = 171;
const HEADER_BYTES = 4;
/** Real answers are a few KiB; a larger length means the bytes are not this protocol (an HTTP or KLAP reply). */
const MAX_FRAME_BYTES = 1 << 20;

export function encodeKasaFrame(message: unknown): Buffer {
  const plain = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.alloc(HEADER_BYTES + plain.length);
  frame.writeUInt32BE(plain.length, 0);
  let key = INITIAL_KEY;
  for (const [i, byte] of plain.entries()) {
    key ^= byte;
    frame[HEADER_BYTES + i] = key;
  }
  return frame;
}

export type KasaFrameRead =
  | { readonly state: 'incomplete' }
  | { readonly state: 'complete'; readonly text: string }
  | { readonly state: 'not-kasa'; readonly why: string };

/** Reads the first frame of what arrived so far. */
export function readKasaFrame(received: Buffer): KasaFrameRead {
  if (received.length < HEADER_BYTES) return { state: 'incomplete' };
  const length = received.readUInt32BE(0);
  if (length === 0 || length > MAX_FRAME_BYTES)
    return { state: 'not-kasa', why: `a frame length of ${length} bytes` };
  if (received.length < HEADER_BYTES + length) return { state: 'incomplete' };
  const plain = Buffer.alloc(length);
  let key = INITIAL_KEY;
  for (let i = 0; i < length; i++) {
    const byte = received[HEADER_BYTES + i] ?? 0;
    plain[i] = key ^ byte;
    key = byte;
  }
  return { state: 'complete', text: plain.toString('utf8') };
}
