import { createLogUpdate } from 'log-update';
import type { PublishOutcome, PublishReporter } from '../publish/publish-events.ts';
import { formatBytes, formatRate, formatTable } from '../format-units.ts';

function describeOutcome(outcome: PublishOutcome): string {
  switch (outcome.status) {
    case 'published':
      return `published ${outcome.version} (${formatBytes(outcome.bytesSent)} sent)`;
    case 'switched':
      return `switched to ${outcome.version} (already on the share)`;
    case 'unchanged':
      return `unchanged (${outcome.version} is current)`;
    case 'planned':
      return `would publish ${outcome.version}`;
    case 'failed':
      return `FAILED: ${(outcome.error ?? '').split('\n')[0] ?? ''}`;
  }
}

function transferLine(file: string, bytes: number, seconds: number): string {
  return `sent ${file}: ${formatBytes(bytes)} in ${seconds.toFixed(1)} s (${formatRate(seconds > 0 ? bytes / seconds : 0)})`;
}

/** Files smaller than this are not worth a line of their own in a CI log. */
const LINE_WORTHY_BYTES = 1024 * 1024;

/** Plain lines for CI logs: each stage, each big file when sent (with its rate), each host's result. */
export function publishLineReporter(stream: NodeJS.WritableStream): PublishReporter {
  return {
    stage: (text) => stream.write(`${text}\n`),
    transfer: () => undefined,
    transferred: (file, bytes, seconds) => {
      if (bytes >= LINE_WORTHY_BYTES) stream.write(`${transferLine(file, bytes, seconds)}\n`);
    },
    finished: (outcome) => stream.write(`${outcome.host}: ${describeOutcome(outcome)}\n`),
  };
}

/** In a terminal: the file being sent redrawn in place with its progress and rate. */
export function publishLiveReporter(stream: NodeJS.WriteStream): PublishReporter & { close(): void } {
  const render = createLogUpdate(stream);
  let lastDraw = 0;
  return {
    stage: (text) => {
      render.clear();
      stream.write(`${text}\n`);
    },
    transfer: (file, sent, total, rate) => {
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      const percent = total > 0 ? Math.floor((100 * sent) / total) : 100;
      render(
        `sending ${file}: ${formatBytes(sent)} / ${formatBytes(total)} (${percent}%) ${formatRate(rate)}`,
      );
    },
    transferred: (file, bytes, seconds) => {
      render.clear();
      stream.write(`${transferLine(file, bytes, seconds)}\n`);
    },
    finished: (outcome) => {
      render.clear();
      stream.write(`${outcome.host}: ${describeOutcome(outcome)}\n`);
    },
    close: () => render.done(),
  };
}

export function publishSummary(outcomes: readonly PublishOutcome[]): string {
  return formatTable(
    ['host', 'result', 'version', 'previous', 'sent'],
    outcomes.map((o) => [o.host, o.status, o.version, o.previous ?? '-', formatBytes(o.bytesSent)]),
  );
}
