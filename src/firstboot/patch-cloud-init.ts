import { parseDocument } from 'yaml';
import { UserError } from '../errors.ts';
import { assertNoPlaceholder, replaceHostnamePlaceholder } from './replace-placeholder.ts';

export interface CloudInitFiles {
  readonly userData: string;
  readonly metaData: string;
  readonly cmdline: string;
}

const INSTANCE_ID_LINE = /^instance-id:.*$/m;
const CMDLINE_INSTANCE = /(ds=nocloud)(;i=[^;\s]*)?/;

/**
 * Sets `hostname:` in user-data and gives the host its own instance-id (cloud-init applies a
 * configuration once per instance-id), written identically to meta-data and cmdline.txt.
 */
export function patchCloudInit(
  files: CloudInitFiles,
  placeholder: string,
  hostname: string,
  instanceId: string,
): CloudInitFiles {
  const document = parseDocument(replaceHostnamePlaceholder(files.userData, placeholder, hostname));
  if (document.errors.length > 0) {
    throw new UserError(
      `user-data in the clean image is not valid YAML: ${document.errors[0]?.message ?? ''}`,
    );
  }
  document.set('hostname', hostname);
  if (document.has('fqdn')) document.set('fqdn', hostname);
  const userData = ensureCloudConfigHeader(document.toString());
  const metaData = INSTANCE_ID_LINE.test(files.metaData)
    ? files.metaData.replace(INSTANCE_ID_LINE, `instance-id: ${instanceId}`)
    : `instance-id: ${instanceId}\n${files.metaData}`;
  const cmdline = files.cmdline.replace(CMDLINE_INSTANCE, `$1;i=${instanceId}`);
  for (const [name, text] of [
    ['user-data', userData],
    ['meta-data', metaData],
    ['cmdline.txt', cmdline],
  ] as const) {
    assertNoPlaceholder(text, placeholder, name);
  }
  return { userData, metaData, cmdline };
}

function ensureCloudConfigHeader(text: string): string {
  return text.startsWith('#cloud-config') ? text : `#cloud-config\n${text}`;
}
