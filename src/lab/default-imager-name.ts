/** pi1 → imager1 (the lab's naming); other names get an `-imager` suffix. Deploy names a host's imager so. */
export function defaultImagerName(host: string): string {
  const number = /^[a-z]+(\d+)$/.exec(host)?.[1];
  return number === undefined ? `${host}-imager` : `imager${number}`;
}
