import { readFile, stat } from 'node:fs/promises';
import { UserError } from '../errors.ts';

export const SUDO_PASSWORD_VARIABLE = 'PI_LAB_SUDO_PASSWORD';
export const SUDO_PASSWORD_FILE_OPTION = '--sudo-password-file';

/**
 * The lab login user's sudo password, for hosts whose sudo asks for one. It is read once (the same
 * for every host) and only ever written to sudo's standard input: never to a command line, a log or
 * `--json`.
 */
export interface SudoPassword {
  /** Where it comes from, for messages: `PI_LAB_SUDO_PASSWORD`, `the file F`, `the prompt`. */
  readonly source: string;
  /** `asker` names the host that needs it (for the prompt and for the message when there is none). */
  get(asker: string): Promise<string>;
}

/** A hidden question at the terminal; resolves with what was typed (without the newline). */
export type AskHidden = (question: string) => Promise<string>;

export interface SudoPasswordOptions {
  /** `--sudo-password-file`: read now (before any host is contacted), first line. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Present when a person can be asked (a terminal). */
  readonly ask?: AskHidden;
}

/** `--sudo-password-file`, else PI_LAB_SUDO_PASSWORD, else a prompt when there is a terminal. */
export async function sudoPasswordFrom(options: SudoPasswordOptions): Promise<SudoPassword> {
  if (options.file !== undefined) {
    const password = await readPasswordFile(options.file);
    return { source: `the file ${options.file}`, get: () => Promise.resolve(password) };
  }
  const fromEnv = (options.env ?? process.env)[SUDO_PASSWORD_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '')
    return { source: SUDO_PASSWORD_VARIABLE, get: () => Promise.resolve(fromEnv) };
  const { ask } = options;
  if (!ask) return NO_SUDO_PASSWORD;
  let answer: Promise<string> | undefined;
  return {
    source: 'the prompt',
    get: (asker) => {
      answer ??= ask(`sudo password for the lab (${asker} asks for it): `);
      return answer;
    },
  };
}

/** For a run with nobody to ask: a host whose sudo wants a password fails with the ways to give one. */
export const NO_SUDO_PASSWORD: SudoPassword = {
  source: 'nowhere',
  get: (asker) =>
    Promise.reject(
      new UserError(`sudo on ${asker} asks for a password, and none was given.`, [
        `set ${SUDO_PASSWORD_VARIABLE}, or pass ${SUDO_PASSWORD_FILE_OPTION} FILE (a file only you can read), or run in a terminal to be asked once`,
      ]),
    ),
};

async function readPasswordFile(file: string): Promise<string> {
  const info = await stat(file).catch((error: unknown) => {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UserError(`cannot read the sudo password file ${file}: ${why}`, [
      `write the password on its first line and pass the file's path to ${SUDO_PASSWORD_FILE_OPTION}`,
    ]);
  });
  if (!info.isFile()) throw new UserError(`the sudo password file ${file} is not a file`);
  if ((info.mode & 0o077) !== 0)
    throw new UserError(
      `the sudo password file ${file} can be read by others (mode ${modeText(info.mode)})`,
      [`make it yours alone: chmod 600 ${file}`],
    );
  const password = (await readFile(file, 'utf8')).split(/\r?\n/)[0] ?? '';
  if (password === '')
    throw new UserError(`the sudo password file ${file} is empty`, ['write the password on its first line']);
  return password;
}

function modeText(mode: number): string {
  return (mode & 0o777).toString(8).padStart(3, '0');
}
