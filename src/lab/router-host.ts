import type { LabHost } from './lab-types.ts';

/** The recipe that makes a host the lab's router (dnsmasq, NAT; the nodes are reached through it). */
export const ROUTER_RECIPE = 'router';

export function isRouter(host: Pick<LabHost, 'recipe'>): boolean {
  return host.recipe === ROUTER_RECIPE;
}

export function labRouter(hosts: readonly LabHost[]): LabHost | undefined {
  return hosts.find(isRouter);
}
