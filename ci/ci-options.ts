import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../src/cli/project-root.ts';
import { DEFAULT_LAB_FILE } from '../src/lab/default-lab-file.ts';

/**
 * What every CI step takes, from flags or the runner's environment (repository variables):
 *   --lab   PI_LAB_LAB      lab file (default recipes/lab.yaml)
 *   --clean PI_LAB_CLEAN    clean image directory (default: the lab's image.clean)
 *   --out   PI_LAB_IMAGES   baked images, kept between runs so bakes stay incremental (default images/)
 *   --share PI_LAB_SHARE    the share (default: the lab's share.target)
 *   --report-dir            where bake.json, publish.json and report.md go (default ci-out/)
 */
export interface CiOptions {
  readonly projectDir: string;
  readonly lab: string;
  readonly clean?: string;
  readonly out: string;
  readonly share?: string;
  readonly reportDir: string;
}

export function ciOptions(argv: readonly string[] = process.argv.slice(2)): CiOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      lab: { type: 'string' },
      clean: { type: 'string' },
      out: { type: 'string' },
      share: { type: 'string' },
      'report-dir': { type: 'string' },
    },
  });
  const projectDir = projectRoot();
  const env = process.env;
  const clean = values.clean ?? (env.PI_LAB_CLEAN || undefined);
  const share = values.share ?? (env.PI_LAB_SHARE || undefined);
  return {
    projectDir,
    lab: path.resolve(values.lab ?? (env.PI_LAB_LAB || path.join(projectDir, DEFAULT_LAB_FILE))),
    out: path.resolve(values.out ?? (env.PI_LAB_IMAGES || path.join(projectDir, 'images'))),
    reportDir: path.resolve(values['report-dir'] ?? path.join(projectDir, 'ci-out')),
    ...(clean ? { clean: path.resolve(clean) } : {}),
    ...(share ? { share } : {}),
  };
}
