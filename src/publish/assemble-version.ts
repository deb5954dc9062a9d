import { createHash } from 'node:crypto';
import os from 'node:os';
import { MANIFEST_FILE } from '../image/manifest.ts';
import { UserError } from '../errors.ts';
import type { ShareFs } from '../share/share-fs.ts';
import {
  hostVersionsDir,
  objectPath,
  PUBLISHED_FILE,
  type PublishedRecord,
  versionDir,
} from '../share/share-layout.ts';
import type { HostPublishPlan } from './plan-publish.ts';

/**
 * Builds the host's version directory in the upload area (hard links into the object store, the
 * manifest, the publish record), checks it against the manifest, then renames it into place.
 */
export async function assembleVersion(
  share: ShareFs,
  plan: HostPublishPlan,
  uploadDir: string,
): Promise<void> {
  const { host, version, image } = plan;
  const staging = `${uploadDir}/${host}`;
  await share.mkdirp(staging);
  const files = Object.entries(image.manifest.files);
  for (const [name, file] of files) await share.hardlink(objectPath(file.sha256), `${staging}/${name}`);
  await share.writeText(`${staging}/${MANIFEST_FILE}`, image.manifestText);
  const manifestSha = createHash('sha256').update(image.manifestText).digest('hex');
  if ((await share.sha256(`${staging}/${MANIFEST_FILE}`)) !== manifestSha)
    throw new UserError(`${host}: the manifest arrived damaged on ${share.description}; publish again.`);
  const record: PublishedRecord = {
    host,
    version,
    publishedAt: new Date().toISOString(),
    publishedFrom: os.hostname(),
    bytes: files.reduce((sum, [, file]) => sum + file.size, 0),
  };
  await share.writeText(`${staging}/${PUBLISHED_FILE}`, `${JSON.stringify(record, null, 2)}\n`);
  const present = new Map((await share.list(staging)).map((entry) => [entry.name, entry.size]));
  const wrong = files.filter(([name, file]) => present.get(name) !== file.size).map(([name]) => name);
  if (wrong.length > 0)
    throw new UserError(`${host}: ${wrong.join(', ')} did not land whole in ${share.description}.`);
  await share.mkdirp(hostVersionsDir(host));
  await share.rename(staging, versionDir(host, version));
}
