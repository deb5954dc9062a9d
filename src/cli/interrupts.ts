import { InterruptedError } from '../errors.ts';
import { interruptAll } from '../exec/run-command.ts';

/**
 * On Ctrl-C or SIGTERM: stop every child tool so the awaiting code unwinds through its `finally`
 * blocks (temporary directories removed, lock released), then exit with the interruption status.
 */
export async function runInterruptibly<T>(work: () => Promise<T>): Promise<T> {
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = signal;
    interruptAll(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await work();
    if (interrupted) throw new InterruptedError(interrupted);
    return result;
  } catch (error) {
    if (interrupted) throw new InterruptedError(interrupted);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
