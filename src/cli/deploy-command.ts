import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import {
  DEFAULT_DEPLOY_TIMEOUTS,
  type DeploySettings,
  type DeployTimeouts,
} from '../deploy/deploy-settings.ts';
import { type DeployOutcome, SILENT_DEPLOY_REPORTER } from '../deploy/deploy-events.ts';
import { deployHosts } from '../deploy/deploy-hosts.ts';
import { type DeployTarget, resolveDeployTarget } from '../deploy/deploy-target.ts';
import { dryRunCommands, readDryRunImage } from '../deploy/dry-run-deploy.ts';
import { UserError } from '../errors.ts';
import type { Lab } from '../lab/lab-types.ts';
import { selectRecipeHosts } from '../lab/select-hosts.ts';
import { openShare } from '../share/open-share.ts';
import { readHostOnShare } from '../share/read-share-state.ts';
import { sshSettings } from '../ssh/lab-ssh.ts';
import { describeEndpoint } from '../ssh/ssh-endpoint.ts';
import type { SudoPassword } from '../ssh/sudo-password.ts';
import { describeDeployOutcome, deployLineReporter, deployLiveReporter } from './deploy-view.ts';
import { jsonOutput } from './json-output.ts';
import { defineCommand } from './define-command.ts';
import { EXIT_FAILED, EXIT_OK } from './exit-codes.ts';
import { SUDO_PASSWORD_FILE, SUDO_USAGE, sudoPasswordOption } from './sudo-option.ts';

export const DEPLOY_USAGE = `Usage: npm run deploy -- HOST... [--all] [--lab FILE] [--version V] [--dry-run] [--yes] [--json]
                          [--sudo-password-file F]

Re-images hosts from their published image: sends each into its SD imager, checks the imager, the
disk and the image, restores with Clonezilla, verifies the disk, reboots and waits for the host to
come back as itself running the new version. Nodes go a few at a time, the router last and alone.
  --all            every host with a recipe
  --version V      restore this published version (one host) instead of the current one
  --dry-run        print every remote command, in order; connect to nothing
  --yes            do not ask for confirmation (required without a terminal)
  --json           print a machine-readable result on stdout
${SUDO_USAGE}`;

const VERSION = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9a-f]{12}$/;

const DEPLOY_LEFT_AS_IT_WAS =
  'a host not yet sent to its imager runs as it did; one already in its imager stays there; a restore already started goes on on the imager by itself (its SSD is not bootable until it ends). Deploy again: it follows a running restore or checks a finished one.';

export const deployCommand = defineCommand({
  name: 'deploy',
  usage: DEPLOY_USAGE,
  options: {
    all: { type: 'boolean' },
    version: { type: 'string' },
    'dry-run': { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    json: { type: 'boolean' },
    ...SUDO_PASSWORD_FILE,
  },
  readsLab: true,
  leftAsItWas: DEPLOY_LEFT_AS_IT_WAS,
  checkArguments: ({ values, positionals }) => {
    if (positionals.length === 0 && !values.all)
      throw new UserError('Name the hosts to deploy, or pass --all.', [DEPLOY_USAGE]);
  },
  run: async ({ values, positionals, lab, projectDir, interruptibly }) => {
    const hosts = selectRecipeHosts(lab, values.all ? [] : positionals, 'deploy');
    if (values.version !== undefined) {
      if (hosts.length !== 1)
        throw new UserError('--version names one host’s version: deploy one host with it.');
      if (!VERSION.test(values.version) || !values.version.startsWith(`${hosts[0]?.name ?? ''}-`))
        throw new UserError(
          `--version ${values.version} is not a version of ${hosts[0]?.name ?? ''} (e.g. ${hosts[0]?.name ?? 'pi1'}-1a2b3c4d5e6f; npm run images lists them).`,
        );
    }
    const targets = hosts.map((host) => resolveDeployTarget(lab, host));
    const live = !values.json && process.stderr.isTTY ? deployLiveReporter(process.stderr) : undefined;
    const sudo = await sudoPasswordOption(values['sudo-password-file'], {
      prompt: true,
      ...(live ? { around: (ask) => live.stepAside(ask) } : {}),
    });
    const settings = deploySettings(lab, projectDir, sudo, values.version);

    if (values['dry-run']) {
      const imageDirs = [
        ...(lab.share?.target.kind === 'local' ? [lab.share.target.dir] : []),
        path.join(projectDir, 'images'),
      ];
      return await printDryRun(targets, settings, imageDirs, values.json ?? false);
    }

    if (!values.yes) await confirm(targets, lab, values.version);
    const reporter = values.json ? SILENT_DEPLOY_REPORTER : (live ?? deployLineReporter(process.stderr));
    const outcomes = await interruptibly(() =>
      deployHosts(targets, settings, reporter, lab.deploy.parallel),
    ).finally(() => live?.close());
    printOutcomes(outcomes, values.json ?? false);
    return outcomes.every((o) => o.status === 'deployed') ? EXIT_OK : EXIT_FAILED;
  },
});

function deploySettings(
  lab: Lab,
  projectDir: string,
  sudo: SudoPassword,
  version: string | undefined,
): DeploySettings {
  const set = lab.deploy.timeouts;
  const timeouts: DeployTimeouts = {
    locate: set.locate ?? DEFAULT_DEPLOY_TIMEOUTS.locate,
    boot: set.boot ?? DEFAULT_DEPLOY_TIMEOUTS.boot,
    preflight: set.preflight ?? DEFAULT_DEPLOY_TIMEOUTS.preflight,
    restore: set.restore ?? DEFAULT_DEPLOY_TIMEOUTS.restore,
    verify: set.verify ?? DEFAULT_DEPLOY_TIMEOUTS.verify,
  };
  return {
    ssh: { ...sshSettings(lab.ssh), sudo },
    timeouts,
    placeholder: lab.image.placeholder,
    logDir: process.env.PI_LAB_LOG_DIR ?? path.join(projectDir, 'logs'),
    ...(version === undefined ? {} : { version }),
  };
}

/** The real step list, run against a simulated Pi: every command, in order, connecting to nothing. */
async function printDryRun(
  targets: readonly DeployTarget[],
  settings: DeploySettings,
  imageDirs: readonly string[],
  json: boolean,
): Promise<number> {
  const ordered = [...targets.filter((t) => !t.isRouter), ...targets.filter((t) => t.isRouter)];
  const outcomes: DeployOutcome[] = [];
  for (const target of ordered) {
    const image = await readDryRunImage(target.host, settings.version, imageDirs);
    outcomes.push({
      host: target.host,
      status: 'planned',
      seconds: 0,
      commands: await dryRunCommands(target, settings, image),
    });
  }
  if (json) {
    process.stdout.write(jsonOutput({ ok: true, dryRun: true, hosts: outcomes }));
  } else {
    for (const outcome of outcomes)
      process.stdout.write(
        `${outcome.host}:\n${(outcome.commands ?? []).map((line) => `  ${line}`).join('\n')}\n\n`,
      );
    process.stdout.write('Dry run: nothing was connected to or changed.\n');
  }
  return EXIT_OK;
}

/** The plan (host → version, disk, imager), then a yes from a person at a terminal. */
async function confirm(
  targets: readonly DeployTarget[],
  lab: Lab,
  version: string | undefined,
): Promise<void> {
  if (!process.stdin.isTTY)
    throw new UserError('deploy overwrites disks: without a terminal to confirm, pass --yes.');
  const versions = await currentVersions(lab, targets, version);
  process.stderr.write('Deploy will re-image:\n');
  for (const target of targets)
    process.stderr.write(
      `  ${target.host} → ${versions.get(target.host) ?? '(current on the share)'} onto ${target.disk} of ${target.imagerName} (${describeEndpoint(target.imager)})${target.isRouter ? ' — router: last, the lab network goes down meanwhile' : ''}\n`,
    );
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question('Go ahead? [y/N] ');
    if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('Not confirmed: nothing was done.');
  } finally {
    prompt.close();
  }
}

async function currentVersions(lab: Lab, targets: readonly DeployTarget[], version: string | undefined) {
  const versions = new Map<string, string>();
  if (version !== undefined) {
    for (const target of targets) versions.set(target.host, version);
    return versions;
  }
  if (!lab.share) return versions;
  try {
    const share = await openShare(lab.share.target, lab);
    try {
      for (const target of targets) {
        const current = (await readHostOnShare(share, target.host)).current;
        if (current) versions.set(target.host, current);
      }
    } finally {
      await share.close();
    }
  } catch {
    // The plan still shows hosts and disks; the imagers read the share themselves.
  }
  return versions;
}

function printOutcomes(outcomes: readonly DeployOutcome[], json: boolean): void {
  if (json) {
    const ok = outcomes.every((o) => o.status === 'deployed');
    process.stdout.write(jsonOutput({ ok, dryRun: false, hosts: outcomes }));
    return;
  }
  process.stdout.write(`\n${outcomes.map(describeDeployOutcome).join('\n')}\n`);
  for (const outcome of outcomes) {
    if (outcome.status === 'failed' && outcome.error)
      process.stderr.write(`\n${outcome.host} failed at ${outcome.step ?? '?'}:\n${outcome.error}\n`);
    if (outcome.logFile) process.stderr.write(`${outcome.host}: restore log ${outcome.logFile}\n`);
  }
}
