import type { ImplementationFn, TestFn } from 'ava';

export const isRoot = process.getuid?.() === 0;

export const NEEDS_ROOT_REASON = 'needs root: loop devices, partition nodes and ocs-sr';

/**
 * Declares a test that runs only as root (here and in CI); elsewhere it is skipped with the reason
 * in its title, so a non-root run says what it did not check.
 */
export function skipUnlessRoot<Context>(test: TestFn<Context>) {
  return (title: string, implementation: ImplementationFn<[], Context>): void => {
    if (isRoot) test(title, implementation);
    else test.skip(`${title} (${NEEDS_ROOT_REASON})`, implementation);
  };
}
