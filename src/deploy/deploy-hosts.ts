import { mapBounded } from '../values/map-bounded.ts';
import type { DeployOutcome, DeployReporter } from './deploy-events.ts';
import { deployHost } from './deploy-host.ts';
import type { DeploySettings } from './deploy-settings.ts';
import type { DeployTarget } from './deploy-target.ts';

/** Nodes a few at a time; the router last and alone, since the lab network goes down with it. */
export async function deployHosts(
  targets: readonly DeployTarget[],
  settings: DeploySettings,
  reporter: DeployReporter,
  parallel: number,
): Promise<DeployOutcome[]> {
  const nodes = targets.filter((target) => !target.isRouter);
  const routers = targets.filter((target) => target.isRouter);
  const outcomes = await mapBounded(nodes, parallel, (target) => deployHost(target, settings, reporter));
  for (const router of routers) outcomes.push(await deployHost(router, settings, reporter));
  return outcomes;
}
