import { UserError } from '../errors.ts';
import type { Lab, LabHost } from './lab-types.ts';

/** The hosts named on the command line (each must have a recipe), or every host with a recipe. */
export function selectRecipeHosts(lab: Lab, names: readonly string[], verb: string): LabHost[] {
  const withRecipe = lab.hosts.filter((host) => host.recipe !== undefined);
  if (names.length === 0) return withRecipe;
  const problems: string[] = [];
  const selected = [...new Set(names)].flatMap((name) => {
    const host = lab.hosts.find((h) => h.name === name);
    if (!host)
      problems.push(`${name}: not in ${lab.file} (hosts: ${lab.hosts.map((h) => h.name).join(', ')})`);
    else if (host.recipe === undefined)
      problems.push(`${name}: has no recipe in ${lab.file}; it is an address reservation only`);
    else return [host];
    return [];
  });
  if (problems.length > 0) throw new UserError(`Cannot ${verb} ${names.join(', ')}:`, problems);
  return selected;
}

/** The hosts named on the command line, or every host of the lab (recipe or not). */
export function selectLabHosts(lab: Lab, names: readonly string[], verb: string): LabHost[] {
  if (names.length === 0) return [...lab.hosts];
  const unknown = names.filter((name) => !lab.hosts.some((host) => host.name === name));
  if (unknown.length > 0)
    throw new UserError(
      `Cannot ${verb} ${unknown.join(', ')}:`,
      unknown.map(
        (name) => `${name}: not in ${lab.file} (hosts: ${lab.hosts.map((h) => h.name).join(', ')})`,
      ),
    );
  return lab.hosts.filter((host) => names.includes(host.name));
}
