import { createLogUpdate } from 'log-update';
import type { BakeReporter, HostOutcome } from '../bake/bake-events.ts';
import { formatTable } from '../format-units.ts';

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MiB`;
}

function describeOutcome(outcome: HostOutcome): string {
  switch (outcome.status) {
    case 'baked':
      return `baked ${outcome.version ?? ''} in ${outcome.seconds.toFixed(1)} s`;
    case 'unchanged':
      return `unchanged (${outcome.version ?? ''})`;
    case 'planned':
      return `would bake ${outcome.version ?? ''}`;
    case 'failed':
      return `FAILED: ${(outcome.error ?? '').split('\n')[0] ?? ''}`;
  }
}

/** Plain lines, one per event: for CI logs and pipes. */
export function lineReporter(stream: NodeJS.WritableStream): BakeReporter {
  return {
    stage: (host, stage) => stream.write(`${host}: ${stage}\n`),
    bytes: () => undefined,
    finished: (outcome) => stream.write(`${outcome.host}: ${describeOutcome(outcome)}\n`),
  };
}

/** A live view redrawn in place (log-update): one line per host with its stage and bytes cloned. */
export function liveReporter(stream: NodeJS.WriteStream): BakeReporter & { close(): void } {
  const render = createLogUpdate(stream);
  const lines = new Map<string, string>();
  const stages = new Map<string, string>();
  let lastDraw = 0;
  const draw = (force = false): void => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    render([...lines].map(([host, line]) => `${host.padEnd(8)} ${line}`).join('\n'));
  };
  return {
    stage: (host, stage) => {
      stages.set(host, stage);
      lines.set(host, `… ${stage}`);
      draw(true);
    },
    bytes: (host, done) => {
      lines.set(host, `… ${stages.get(host) ?? ''} ${mib(done)}`);
      draw();
    },
    finished: (outcome) => {
      lines.set(outcome.host, `${outcome.status === 'failed' ? '✗' : '✓'} ${describeOutcome(outcome)}`);
      draw(true);
    },
    close: () => {
      draw(true);
      render.done();
    },
  };
}

export function summaryTable(outcomes: readonly HostOutcome[]): string {
  const rows = outcomes.map((o) => [
    o.host,
    o.status,
    o.version ?? '-',
    o.status === 'baked' ? `${o.seconds.toFixed(1)} s` : '-',
    o.partitions
      ? Object.entries(o.partitions)
          .map(([device, action]) => `${device} ${action}`)
          .join(', ')
      : '-',
  ]);
  return formatTable(['host', 'result', 'version', 'time', 'partitions'], rows);
}
