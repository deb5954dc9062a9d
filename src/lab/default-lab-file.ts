/** Where the lab file is unless `--lab` names another; relative to the project directory. */
export const DEFAULT_LAB_FILE = 'recipes/lab.yaml';
