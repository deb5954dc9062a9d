import type { ImplementationFn } from 'ava';

export const isRoot = process.getuid?.() === 0;

export const NEEDS_ROOT_REASON = 'needs root: loop devices, partition nodes and ocs-sr';

/**
 * Declares a test that runs only as root (here and in CI); elsewhere it is skipped with the reason
 * in its title, so a non-root run says what it did not check.
 */
type Declare<Context> = (title: string, implementation: ImplementationFn<[], Context>) => void;

/** Takes `test` or `test.serial`. */
export function skipUnlessRoot<Context>(
  declare: Declare<Context> & { skip: Declare<Context> },
): Declare<Context> {
  return (title, implementation) => {
    if (isRoot) declare(title, implementation);
    else declare.skip(`${title} (${NEEDS_ROOT_REASON})`, implementation);
  };
}
