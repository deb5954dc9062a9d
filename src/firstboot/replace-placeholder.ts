import { UserError } from '../errors.ts';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces the placeholder where it stands as a whole hostname (not inside a longer word). A shell
 * escape before it counts as a separator: Imager's firstrun.sh writes `127.0.1.1\tchangeme`.
 */
export function replaceHostnamePlaceholder(text: string, placeholder: string, hostname: string): string {
  const whole = new RegExp(
    `(?<=^|[^A-Za-z0-9-]|\\\\[a-z])${escapeRegExp(placeholder)}(?![A-Za-z0-9-])`,
    'gm',
  );
  return text.replace(whole, hostname);
}

export function countOccurrences(text: string, word: string): number {
  return text.toLowerCase().split(word.toLowerCase()).length - 1;
}

/** After patching, no trace of the placeholder may remain anywhere in a first-boot file. */
export function assertNoPlaceholder(text: string, placeholder: string, file: string): void {
  const left = countOccurrences(text, placeholder);
  if (left > 0) {
    throw new UserError(
      `${file} still contains "${placeholder}" ${left} time(s) after the hostname was set.`,
      [
        `It appears inside a longer word; edit the clean image's ${file} or choose another placeholder (image.placeholder in the lab file).`,
      ],
    );
  }
}
