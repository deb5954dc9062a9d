import { InterruptedError } from '../errors.ts';

const ENTER = new Set(['\r', '\n']);
const ERASE = new Set(['\u007F', '\b']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const CTRL_U = '\u0015';

/**
 * Asks at the terminal without echoing what is typed (like sudo). Ctrl-C interrupts the command the
 * way it does everywhere else; Ctrl-D on an empty line gives up.
 */
export function askHidden(
  question: string,
  input: NodeJS.ReadStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = '';
    const wasRaw = input.isRaw;
    const finish = (outcome: () => void): void => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write('\n');
      outcome();
    };
    const onData = (chunk: Buffer): void => {
      for (const key of chunk.toString('utf8')) {
        if (ENTER.has(key)) return finish(() => resolve(typed));
        if (key === CTRL_C) {
          finish(() => reject(new InterruptedError('SIGINT')));
          process.kill(process.pid, 'SIGINT');
          return;
        }
        if (key === CTRL_D && typed === '') return finish(() => reject(new InterruptedError('SIGINT')));
        if (ERASE.has(key)) typed = typed.slice(0, -1);
        else if (key === CTRL_U) typed = '';
        else if (key >= ' ') typed += key;
      }
    };
    output.write(question);
    input.setRawMode(true);
    input.on('data', onData);
    input.resume();
  });
}
