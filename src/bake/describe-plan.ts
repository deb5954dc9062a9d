import type { CleanImageFacts, HostPlan } from './bake-types.ts';

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** What --dry-run prints for one host: every file written and what happens to each partition. */
export function describePlan(plan: HostPlan, facts: CleanImageFacts): string[] {
  const lines: string[] = [];
  for (const partition of facts.image.partitions) {
    if (partition.device === facts.boot.device) {
      lines.push(`${partition.device} (boot, ${partition.fs}): re-cloned`);
      for (const edit of plan.bootEdits)
        lines.push(`  ${edit.path}  (${edit.content.length} bytes) ${edit.reason}`);
    } else if (partition.device === facts.root.device && plan.rootVariant) {
      lines.push(
        `${partition.device} (root, ${partition.fs}): re-cloned (shared by hosts with the same root files)`,
      );
      for (const file of plan.rootVariant.files) {
        lines.push(
          `  ${file.path}  ${octal(file.mode)} ${file.uid}:${file.gid} (${file.content.length} bytes)`,
        );
      }
      for (const link of plan.rootVariant.symlinks) lines.push(`  ${link.path} -> ${link.linkTo}`);
    } else {
      lines.push(`${partition.device} (${partition.fs}): reused unchanged (hard link)`);
    }
  }
  return lines;
}
