import type { ValueProblem } from '../lab/field-checks.ts';

const SETTING = /^[A-Za-z_][\w.-]*(?:=\S.*|\s+\S.*)$/;

/** A line the bake places under `[all]` in config.txt, which has no inline comments and no line continuations. */
export function checkConfigTxtLine(value: string): ValueProblem | undefined {
  if (!value.trim()) return { message: 'is empty', fix: 'remove it' };
  if (/[\r\n]/.test(value)) return { message: 'spans several lines', fix: 'write one list item per line' };
  if (value !== value.trim())
    return { message: 'has leading or trailing spaces', fix: `write "${value.trim()}"` };
  if (value.startsWith('[')) {
    return {
      message: 'is a section header; config_txt lines always go under [all]',
      fix: 'remove it (board-specific settings are not supported in recipes)',
    };
  }
  if (value.includes('#')) {
    return {
      message: 'contains a comment, and config.txt has no inline comments',
      fix: 'put comments in the recipe (a YAML # comment on its own line)',
    };
  }
  if (!SETTING.test(value)) {
    return { message: 'is not a config.txt setting', fix: 'write name=value, e.g. "dtoverlay=disable-wifi"' };
  }
  return undefined;
}
