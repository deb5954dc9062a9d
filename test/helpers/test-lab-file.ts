import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { SAMPLE_LAB_FILE } from './bake-cli.ts';

/**
 * The sample lab with its sections replaced or added (share, ssh, hosts…), written to `file`: the
 * lab files tests use point at loopback and the tests' own namespaces, never at the sample lab's.
 */
export async function writeTestLab(
  file: string,
  sections: Readonly<Record<string, unknown>>,
): Promise<string> {
  const lab = parse(await readFile(SAMPLE_LAB_FILE, 'utf8')) as Record<string, unknown>;
  await writeFile(file, stringify({ ...lab, ...sections }));
  return file;
}

/** An environment where nothing of the machine's own SSH setup (agent, ~/.ssh) leaks in. */
export function isolatedSshEnv(home: string): Record<string, string> {
  return { HOME: home, SSH_AUTH_SOCK: '' };
}
