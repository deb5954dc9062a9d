/**
 * config.txt applies a line to the boards of the nearest section header above it, so a line
 * appended to a file that ends inside `[cm5]` would apply to Compute Modules only.
 * Lines are placed under an `[all]` header at the end, once.
 */
export function ensureLinesForAllBoards(configTxt: string, lines: readonly string[]): string {
  const missing = lines.filter((line) => !appliesToAllBoards(configTxt, line));
  if (missing.length === 0) return configTxt;
  const body = configTxt.endsWith('\n') || configTxt === '' ? configTxt : `${configTxt}\n`;
  const header = lastSection(body) === 'all' ? '' : '[all]\n';
  return `${body}${header}${missing.join('\n')}\n`;
}

const SECTION = /^\s*\[([^\]]+)\]\s*$/;

function lastSection(text: string): string {
  let section = 'all';
  for (const line of text.split('\n')) {
    const match = SECTION.exec(line);
    if (match?.[1]) section = match[1].trim().toLowerCase();
  }
  return section;
}

export function appliesToAllBoards(configTxt: string, wanted: string): boolean {
  let section = 'all';
  for (const line of configTxt.split('\n')) {
    const match = SECTION.exec(line);
    if (match?.[1]) section = match[1].trim().toLowerCase();
    else if (section === 'all' && line.trim() === wanted.trim()) return true;
  }
  return false;
}
