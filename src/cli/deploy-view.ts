import { createLogUpdate } from 'log-update';
import { type DeployOutcome, type DeployReporter, STEP_TITLES } from '../deploy/deploy-events.ts';

/** One line per host: deployed, or failed at which step and why. */
export function describeDeployOutcome(outcome: DeployOutcome): string {
  if (outcome.status === 'deployed')
    return `${outcome.host}: deployed ${outcome.version ?? ''} in ${outcome.seconds.toFixed(0)} s`;
  if (outcome.status === 'planned') return `${outcome.host}: planned`;
  const why = (outcome.error ?? '').split('\n')[0] ?? '';
  return `${outcome.host}: failed at ${outcome.step ?? '?'} (${STEP_TITLES[outcome.step ?? 'locate']}): ${why}`;
}

/** Plain lines for logs and CI: every step, restore progress every 10 %, each result. */
export function deployLineReporter(stream: NodeJS.WritableStream): DeployReporter {
  const lastTen = new Map<string, number>();
  return {
    step: (host, step, detail) =>
      stream.write(`${host}: ${step} — ${STEP_TITLES[step]}${detail ? ` (${detail})` : ''}\n`),
    progress: (host, percent) => {
      const ten = Math.floor(percent / 10);
      if (ten === lastTen.get(host)) return;
      lastTen.set(host, ten);
      stream.write(`${host}: restore ${percent}%\n`);
    },
    finished: (outcome) => stream.write(`${describeDeployOutcome(outcome)}\n`),
  };
}

/** In a terminal: a line per host redrawn in place. */
export function deployLiveReporter(stream: NodeJS.WriteStream): DeployReporter & {
  close(): void;
  /** Clears the view while `work` (a question at the terminal) runs, then draws it again. */
  stepAside: <T>(work: () => Promise<T>) => Promise<T>;
} {
  const render = createLogUpdate(stream);
  const lines = new Map<string, string>();
  let aside = false;
  const draw = (): void => {
    if (!aside) render([...lines].map(([host, line]) => `${host.padEnd(8)} ${line}`).join('\n'));
  };
  return {
    stepAside: async (work) => {
      aside = true;
      render.clear();
      try {
        return await work();
      } finally {
        aside = false;
        draw();
      }
    },
    step: (host, step, detail) => {
      lines.set(host, `… ${STEP_TITLES[step]}${detail ? ` (${detail})` : ''}`);
      draw();
    },
    progress: (host, percent) => {
      lines.set(host, `… ${STEP_TITLES.restore} ${percent}%`);
      draw();
    },
    finished: (outcome) => {
      lines.set(
        outcome.host,
        `${outcome.status === 'deployed' ? '✓' : '✗'} ${describeDeployOutcome(outcome).replace(`${outcome.host}: `, '')}`,
      );
      draw();
    },
    close: () => render.done(),
  };
}
