import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import type { CleanImageFacts } from '../../src/bake/bake-types.ts';
import { planHost } from '../../src/bake/plan-host.ts';
import { prepareHostInputs } from '../../src/bake/prepare-host-inputs.ts';
import type { PartitionImage } from '../../src/clonezilla/read-image.ts';
import { loadLab } from '../../src/lab/load-lab.ts';
import { makeProjectCopy } from '../helpers/output-tree.ts';
import { makeTempDir } from '../helpers/temp-dir.ts';

const BOOT_OVERLAY_FILE = 'overlays/common/boot/lab-note.txt';
const TOOLS = { partclone: '0.3.23', mtools: '4.0.33' };

function partition(device: string, fs: string, number: number): PartitionImage {
  const files = [`${device}.${fs}-ptcl-img.gz`];
  return {
    device,
    fs,
    codec: 'gz',
    files,
    entry: { device: `/dev/${device}`, number, startSector: 8192 * number, sizeSectors: 8192, type: 'c' },
  };
}

/** The facts a bake would read from a firstrun.sh clean image; only their values matter to the plan. */
function cleanFacts(): CleanImageFacts {
  const boot = partition('sda1', 'vfat', 1);
  const root = partition('sda2', 'ext4', 2);
  return {
    image: {
      dir: '/clean/pi-img',
      name: 'pi-img',
      disk: 'sda',
      table: { label: 'dos', labelId: '0x1234', sectorSize: 512, entries: [boot.entry, root.entry] },
      partitions: [boot, root],
      files: [...boot.files, ...root.files],
    },
    id: 'clean-image-id',
    fileDigests: new Map([...boot.files, ...root.files].map((file) => [file, `digest of ${file}`])),
    boot,
    root,
    bootFiles: {
      format: 'firstrun',
      rootFiles: [],
      cmdline: 'console=tty1 root=PARTUUID=12345678-02 rootwait\n',
      configTxt: '[all]\n',
      firstrun: '#!/bin/bash\nhostnamectl set-hostname changeme\n',
    },
  };
}

async function inputKeysOf(projectDir: string): Promise<Record<string, string>> {
  const lab = await loadLab(path.join(projectDir, 'recipes/lab.yaml'), { projectDir });
  const hosts = lab.hosts.filter((host) => host.recipe !== undefined);
  const inputs = await prepareHostInputs(lab, hosts, projectDir);
  const facts = cleanFacts();
  return Object.fromEntries(
    inputs.map((host) => {
      const plan = planHost(facts, host, TOOLS);
      if (!plan.bootEdits.some((edit) => edit.path === '/lab-note.txt'))
        throw new Error(`${host.hostName}: the boot overlay file is not in the plan`);
      return [host.hostName, plan.inputKey];
    }),
  );
}

test('a project moved to another directory, boot overlay files included, keeps its input keys', async (t) => {
  const temp = await makeTempDir();
  t.teardown(() => temp.remove());
  const original = await makeProjectCopy(path.join(temp.path, 'checkout'));
  await mkdir(path.dirname(path.join(original, BOOT_OVERLAY_FILE)), { recursive: true });
  await writeFile(path.join(original, BOOT_OVERLAY_FILE), 'lab pi\n');
  const moved = path.join(temp.path, 'elsewhere/moved-checkout');
  await cp(original, moved, { recursive: true });

  const keys = await inputKeysOf(original);
  t.deepEqual(Object.keys(keys), ['pi0', 'pi1', 'pi2', 'pi3']);
  t.deepEqual(await inputKeysOf(moved), keys);

  await writeFile(path.join(moved, BOOT_OVERLAY_FILE), 'lab Pi\n');
  const changed = await inputKeysOf(moved);
  for (const host of Object.keys(keys)) t.not(changed[host], keys[host], `${host}: boot file content counts`);
});
