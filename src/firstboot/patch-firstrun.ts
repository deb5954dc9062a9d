import { UserError } from '../errors.ts';
import { assertNoPlaceholder, countOccurrences, replaceHostnamePlaceholder } from './replace-placeholder.ts';

/** Imager's firstrun.sh sets the hostname in several places; every one must name the host. */
export function patchFirstrunHostname(script: string, placeholder: string, hostname: string): string {
  if (countOccurrences(script, placeholder) === 0) {
    throw new UserError(`firstrun.sh does not contain the hostname placeholder "${placeholder}".`, [
      'Set image.placeholder in the lab file to the hostname the clean image was customised with.',
    ]);
  }
  const patched = replaceHostnamePlaceholder(script, placeholder, hostname);
  assertNoPlaceholder(patched, placeholder, 'firstrun.sh');
  return patched;
}
