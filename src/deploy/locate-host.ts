import { describeError, UserError } from '../errors.ts';
import { describeEndpoint } from '../ssh/ssh-endpoint.ts';
import type { DeployContext } from './deploy-context.ts';
import { StepError } from './deploy-events.ts';
import type { DeployTarget } from './deploy-target.ts';
import { type Answer, askName } from './reach-host.ts';

/** Asks both of the host's identities at once; keeps the session of the one that answers as itself. */
export async function locateHost(ctx: DeployContext): Promise<void> {
  const { target, settings, port } = ctx;
  const attempt = (endpoint: DeployTarget['node']) =>
    askName(port, endpoint, settings.ssh, settings.timeouts.locate).then(
      (answer) => answer,
      (error: unknown) => error,
    );
  const [asNode, asImager] = await Promise.all([attempt(target.node), attempt(target.imager)]);
  const found = [asNode, asImager].filter((a): a is Answer => !(a instanceof Error));
  const node = found.find((a) => a.hostname === target.host);
  const imager = found.find((a) => a.hostname === target.imagerName);
  for (const answer of found) if (answer !== node && answer !== imager) await answer.session.close();
  if (node) {
    if (imager) await imager.session.close();
    ctx.node = ctx.keep(node.session);
    return;
  }
  if (imager) {
    ctx.imager = ctx.keep(imager.session);
    return;
  }
  const permanent = [asNode, asImager].find(
    (a) => a instanceof UserError && /host key|cannot log in|no SSH key/i.test(a.message),
  );
  if (permanent instanceof UserError) throw permanent;
  const why = (answer: unknown, endpoint: DeployTarget['node'], name: string): string =>
    answer instanceof Error
      ? `as ${name} at ${describeEndpoint(endpoint)}: ${describeError(answer).split('\n')[0] ?? ''}`
      : `at ${describeEndpoint(endpoint)} it answers as ${(answer as Answer).hostname}, not ${name}`;
  throw new StepError('locate', `${target.host} answers neither as itself nor as its imager:`, [
    why(asNode, target.node, target.host),
    why(asImager, target.imager, target.imagerName),
    'Is it powered and on the network? (lab file: hosts[].ssh and hosts[].imager)',
  ]);
}
