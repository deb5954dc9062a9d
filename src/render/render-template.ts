import Mustache from 'mustache';
import { UserError } from '../errors.ts';
import { findMissingNames } from './find-missing-names.ts';
import { parseTemplate, TEMPLATE_TAGS } from './parse-template.ts';

/**
 * Renders a mustache template without HTML escaping (the output is config files, not HTML). Every name the
 * template uses must resolve to a value in the view: mustache alone would render a missing one as ''.
 */
export function renderTemplate(text: string, view: object, source: string): string {
  const tokens = parseTemplate(text, source);
  const missing = findMissingNames(tokens, view, text);
  if (missing.length > 0) {
    const names = [...new Set(missing.map((entry) => entry.name))];
    throw new UserError(
      `${source}: the template uses ${names.length === 1 ? 'a name' : 'names'} the view does not supply: ${names.join(', ')}`,
      missing.map(
        (entry) =>
          `${source}:${entry.line}: {{${entry.name}}} ${entry.reason}` +
          (entry.known.length > 0 ? ` — known here: ${entry.known.join(', ')}` : ''),
      ),
    );
  }
  return Mustache.render(text, view, {}, { tags: TEMPLATE_TAGS, escape: (value: unknown) => String(value) });
}
