import { SUDO_PASSWORD_VARIABLE, type SudoPassword, sudoPasswordFrom } from '../ssh/sudo-password.ts';
import { askHidden } from './ask-hidden.ts';

/** The option of every command that may run something as root on the lab's hosts. */
export const SUDO_PASSWORD_FILE = { 'sudo-password-file': { type: 'string' } } as const;

export const SUDO_USAGE = `  --sudo-password-file F   the login user's sudo password, first line of F (mode 600); or set
                           ${SUDO_PASSWORD_VARIABLE}; else asked once at a terminal when a host's sudo wants it`;

/**
 * Where the sudo password comes from for this run. The file is read now, before any host is reached.
 * `around` wraps the prompt (a live view steps aside while it shows).
 */
export function sudoPasswordOption(
  file: string | undefined,
  options: { readonly prompt: boolean; readonly around?: <T>(ask: () => Promise<T>) => Promise<T> },
): Promise<SudoPassword> {
  const around = options.around ?? (<T>(ask: () => Promise<T>) => ask());
  const canAsk = options.prompt && process.stdin.isTTY && process.stderr.isTTY;
  return sudoPasswordFrom({
    ...(file === undefined ? {} : { file }),
    ...(canAsk ? { ask: (question: string) => around(() => askHidden(question)) } : {}),
  });
}
