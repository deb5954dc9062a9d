// Plain JavaScript, loaded with `node --import` before tsx, so that Ctrl-C or SIGTERM is handled from
// the first moment: before a command's own handler is set (start-up, argument and lab file checks)
// and after it is gone (printing the result), nothing is being written, and the process says so and
// exits 130 instead of dying by the signal. While a command works, its listener takes the signal.
import process from 'node:process';

const KEY = Symbol.for('pi-lab.signal-dispatch');

if (!globalThis[KEY]) {
  const dispatch = { listener: undefined };
  globalThis[KEY] = dispatch;
  const onSignal = (signal) => {
    if (dispatch.listener) {
      dispatch.listener(signal);
      return;
    }
    process.stderr.write(`\nInterrupted (${signal}): no work was under way; nothing was changed.\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
