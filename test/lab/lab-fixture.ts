import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { parse, stringify } from 'yaml';
import { UserError } from '../../src/errors.ts';
import { parseLab } from '../../src/lab/load-lab.ts';
import type { Lab } from '../../src/lab/lab-types.ts';

export const PROJECT_DIR = path.resolve(import.meta.dirname, '../..');
export const SAMPLE_LAB_FILE = path.join(PROJECT_DIR, 'recipes/lab.yaml');
export const SAMPLE_LAB_TEXT = readFileSync(SAMPLE_LAB_FILE, 'utf8');

/** Parse options for a lab that lives at the sample's place in a project with the node and router recipes. */
export const FAKE_PROJECT = '/srv/lab-project';
export const FAKE_LAB_FILE = `${FAKE_PROJECT}/recipes/lab.yaml`;
const options = {
  projectDir: FAKE_PROJECT,
  recipeExists: (name: string) => ['node', 'router'].includes(name),
};

/** The lab file as raw data, loose enough to make it invalid. */
export interface LabData {
  network: Record<string, unknown> & { dhcp: Record<string, unknown> };
  image: Record<string, unknown>;
  hosts: Record<string, unknown>[];
}

export function hostAt(lab: LabData, index: number): Record<string, unknown> {
  const host = lab.hosts[index];
  if (!host) throw new Error(`the sample lab has no hosts[${index}]`);
  return host;
}

/** The sample lab as data, changed by `edit`, back to YAML text. */
export function editedSample(edit: (lab: LabData) => void): string {
  const data = parse(SAMPLE_LAB_TEXT) as LabData;
  edit(data);
  return stringify(data);
}

export function parseText(text: string): Lab {
  return parseLab(text, FAKE_LAB_FILE, options);
}

/** The details of the UserError that parsing throws; fails the test when it does not throw one. */
export function problemsOf(t: ExecutionContext, text: string): readonly string[] {
  const error = t.throws(() => parseText(text), { instanceOf: UserError });
  return error.details;
}
