/** `/a/b/c` → [`/a`, `/a/b`]: the directories that must exist before `c` is written, outermost first. */
export function parentDirectories(target: string): string[] {
  const parts = target.split('/').filter(Boolean).slice(0, -1);
  return parts.map((_part, index) => `/${parts.slice(0, index + 1).join('/')}`);
}
