import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { loadRecipe } from '../../src/recipes/load-recipe.ts';
import { makeProject, PROJECT_DIR } from './project-fixture.ts';

test('the node recipe loads', async (t) => {
  const recipe = await loadRecipe('node', { projectDir: PROJECT_DIR });
  const file = path.join(PROJECT_DIR, 'recipes/node.yaml');
  t.deepEqual(recipe, {
    name: 'node',
    file,
    description: 'Cluster node — Wi-Fi off, SSH by key only.',
    overlays: ['common'],
    configTxt: ['dtoverlay=disable-wifi'],
    digest: createHash('sha256')
      .update(await readFile(file))
      .digest('hex'),
  });
});

test('the router recipe loads', async (t) => {
  const recipe = await loadRecipe('router', { projectDir: PROJECT_DIR });
  t.deepEqual(recipe.overlays, ['common', 'router']);
  t.deepEqual(recipe.configTxt, []);
  t.regex(recipe.digest, /^[0-9a-f]{64}$/);
});

test('every problem of a recipe is reported at once', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/common/rootfs/etc/motd': 'hi\n',
    'recipes/bad.yaml': [
      'description: Bad',
      'overlay: [common]',
      'config_txt:',
      '  - "[pi5]"',
      "  - 'dtoverlay=disable-wifi # no bluetooth either'",
      '  - " dtparam=audio=on"',
      '  - disable-wifi',
      '',
    ].join('\n'),
  });
  const error = await t.throwsAsync(loadRecipe('bad', { projectDir }), { instanceOf: UserError });
  t.is(error.message, 'recipes/bad.yaml is not a valid recipe (5 problems):');
  t.deepEqual(error.details, [
    'recipes/bad.yaml: config_txt[0]: is a section header; config_txt lines always go under [all] (got "[pi5]") — remove it (board-specific settings are not supported in recipes)',
    'recipes/bad.yaml: config_txt[1]: contains a comment, and config.txt has no inline comments (got "dtoverlay=disable-wifi # no bluetooth either") — put comments in the recipe (a YAML # comment on its own line)',
    'recipes/bad.yaml: config_txt[2]: has leading or trailing spaces (got " dtparam=audio=on") — write "dtparam=audio=on"',
    'recipes/bad.yaml: config_txt[3]: is not a config.txt setting (got "disable-wifi") — write name=value, e.g. "dtoverlay=disable-wifi"',
    'recipes/bad.yaml: overlay: unknown key — did you mean "overlays"? (known keys: description, overlays, config_txt)',
  ]);
});

test('overlays must exist and be listed once', async (t) => {
  const projectDir = await makeProject(t, {
    'overlays/common/rootfs/etc/motd': 'hi\n',
    'recipes/bad.yaml': 'description: Bad\noverlays: [common, comon, common]\n',
  });
  const error = await t.throwsAsync(loadRecipe('bad', { projectDir }), { instanceOf: UserError });
  t.deepEqual(error.details, [
    'recipes/bad.yaml: overlays[2]: is listed twice (got "common") — list each overlay once',
    'recipes/bad.yaml: overlays[1]: has no directory overlays/comon/ (got "comon") — create it, or name an existing overlay (common)',
  ]);
});

test('a missing recipe names the file and the recipes there are', async (t) => {
  const error = await t.throwsAsync(loadRecipe('nodes', { projectDir: PROJECT_DIR }), {
    instanceOf: UserError,
  });
  t.is(error.message, 'recipe recipes/nodes.yaml does not exist');
  t.deepEqual(error.details, [
    `${path.join(PROJECT_DIR, 'recipes/nodes.yaml')}: write it, or use an existing recipe (node, router)`,
  ]);
});

test('a recipe name that is not kebab-case is refused before touching the file system', async (t) => {
  const error = await t.throwsAsync(loadRecipe('../lab', { projectDir: PROJECT_DIR }), {
    instanceOf: UserError,
  });
  t.is(error.message, '"../lab" is not a recipe name');
});
