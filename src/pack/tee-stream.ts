import type { Readable, Writable } from 'node:stream';

export class ConsumerClosedError extends Error {
  constructor(readonly consumer: string) {
    super(`${consumer} stopped reading before the end of the stream`);
  }
}

/**
 * Copies a stream to several consumers, each at its own pace. Unlike `pipe()` to two destinations,
 * a consumer that goes away fails the copy instead of leaving the source paused for ever.
 */
export interface TeeConsumer {
  readonly name: string;
  readonly stream: Writable;
  /**
   * A consumer that may stop reading once it has what it needs (partclone.chkimg ignores what
   * follows the last checksum): if it closes early and this settles successfully, it is dropped.
   * A function, so that a consumer's failure is awaited only when it matters, never left unhandled.
   */
  readonly finishedEarly?: () => Promise<void>;
}

export async function teeStream(source: Readable, consumers: readonly TeeConsumer[]): Promise<void> {
  let active = [...consumers];
  for await (const data of source as AsyncIterable<Buffer>) {
    const results = await Promise.allSettled(
      active.map((consumer) => writeOrFail(consumer.name, consumer.stream, data)),
    );
    const stopped: TeeConsumer[] = [];
    for (const [index, result] of results.entries()) {
      if (result.status === 'fulfilled') continue;
      const consumer = active[index];
      if (!(result.reason instanceof ConsumerClosedError) || !consumer?.finishedEarly) throw result.reason;
      await consumer.finishedEarly();
      stopped.push(consumer);
    }
    if (stopped.length > 0) active = active.filter((consumer) => !stopped.includes(consumer));
  }
  for (const consumer of active) consumer.stream.end();
}

function writeOrFail(name: string, stream: Writable, data: Buffer): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.reject(new ConsumerClosedError(name));
  if (stream.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (error?: Error): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new ConsumerClosedError(name));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
  });
}
