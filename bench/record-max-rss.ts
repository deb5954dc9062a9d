import { writeFileSync } from 'node:fs';

/**
 * Preloaded into the bake by the bench (`node --import tsx --import ./bench/record-max-rss.ts ...`):
 * writes this node process's own peak RSS in KiB (children excluded) to $BENCH_MAX_RSS_FILE at exit.
 */
const file = process.env.BENCH_MAX_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, `${process.resourceUsage().maxRSS}\n`));
