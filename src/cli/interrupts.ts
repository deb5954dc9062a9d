import { InterruptedError } from '../errors.ts';
import { interruptAll } from '../exec/run-command.ts';
import './signal-dispatch.mjs';

interface SignalDispatch {
  listener: ((signal: NodeJS.Signals) => void) | undefined;
}

/** Installed by signal-dispatch.mjs: npm scripts load it first; an import here covers other launches. */
const dispatch = (globalThis as Record<symbol, unknown>)[
  Symbol.for('pi-lab.signal-dispatch')
] as SignalDispatch;

/**
 * On Ctrl-C or SIGTERM: stop every child tool so the awaiting code unwinds through its `finally`
 * blocks (temporary directories removed, lock released), then exit with the interruption status,
 * telling the user `leftAsItWas`.
 */
export async function runInterruptibly<T>(work: () => Promise<T>, leftAsItWas: string): Promise<T> {
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = signal;
    interruptAll(signal);
  };
  const previous = dispatch.listener;
  dispatch.listener = onSignal;
  try {
    const result = await work();
    if (interrupted) throw new InterruptedError(interrupted, leftAsItWas);
    return result;
  } catch (error) {
    if (interrupted || error instanceof InterruptedError)
      throw new InterruptedError(interrupted ?? (error as InterruptedError).signal, leftAsItWas);
    throw error;
  } finally {
    dispatch.listener = previous;
  }
}
