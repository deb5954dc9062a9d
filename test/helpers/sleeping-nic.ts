import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { Netns } from './netns.ts';

/*
 * Test double for a sleeping machine's network card, which is physically absent here: a UDP socket
 * on port 9 inside a namespace that records every datagram it hears, broadcasts included. What it
 * records is checked against the magic packet's format (6 × ff, then the MAC 16 times).
 */

export interface HeardPacket {
  readonly from: string;
  readonly hex: string;
}

export interface SleepingNic {
  readonly heard: HeardPacket[];
  /** Resolves once `count` packets were heard, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<HeardPacket[]>;
  stop(): Promise<void>;
}

const LISTENER = `
const socket = require('node:dgram').createSocket('udp4');
socket.on('message', (message, remote) =>
  console.log(JSON.stringify({ from: remote.address, hex: message.toString('hex') })));
socket.bind(9, '0.0.0.0', () => console.log('listening'));
`;

export async function startSleepingNic(netns: Netns): Promise<SleepingNic> {
  const { program, args } = netns.wrap(process.execPath, ['-e', LISTENER]);
  const child = execa(program, args, { reject: false, stdin: 'ignore', stderr: 'inherit' });
  const heard: HeardPacket[] = [];
  const waiters = new Set<() => void>();
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    const early = setTimeout(() => reject(new Error('the UDP listener did not start within 10 s')), 10_000);
    lines.on('line', (line) => {
      if (line === 'listening') {
        clearTimeout(early);
        resolve();
        return;
      }
      heard.push(JSON.parse(line) as HeardPacket);
      for (const wake of waiters) wake();
    });
    void child.then(() => reject(new Error('the UDP listener exited')));
  });
  return {
    heard,
    waitFor: (count, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (heard.length < count) return;
          cleanup();
          resolve([...heard]);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`heard ${heard.length} packets, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    stop: async () => {
      child.kill();
      await child;
    },
  };
}
