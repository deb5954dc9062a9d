import { readFile } from 'node:fs/promises';
import ssh2, { type AgentAuthMethod, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';
import type { ResolvedSshSettings } from './ssh-endpoint.ts';

export interface Identities {
  /** In the order ssh uses: the agent first, then each key file. */
  readonly methods: readonly (AgentAuthMethod | PublicKeyAuthMethod)[];
  /** What is offered, for messages: key file paths and the agent; never key material. */
  readonly offered: readonly string[];
  /** Key files that exist but cannot be offered, with what to do about each. */
  readonly notes: readonly string[];
  /** Key files that can be offered or were skipped (encrypted): where `.pub` files for ssh-copy-id live. */
  readonly keyFiles: readonly string[];
}

const ENCRYPTED = /encrypted .*no passphrase given/i;

/**
 * Reads the key files that exist. Passphrases are never asked for: a passphrase-protected key is
 * used through the agent, which is where `ssh-add` puts it.
 */
export async function loadIdentities(settings: ResolvedSshSettings, username: string): Promise<Identities> {
  const methods: (AgentAuthMethod | PublicKeyAuthMethod)[] = [];
  const offered: string[] = [];
  const notes: string[] = [];
  const keyFiles: string[] = [];
  if (settings.agentSocket) {
    methods.push({ type: 'agent', username, agent: settings.agentSocket });
    offered.push(`the ssh-agent at ${settings.agentSocket}`);
  }
  for (const file of settings.identityFiles) {
    const text = await readFile(file).catch((error: unknown) => error as NodeJS.ErrnoException);
    if (!Buffer.isBuffer(text)) {
      if (text.code !== 'ENOENT' || settings.identityFilesExplicit) {
        notes.push(`${file}: ${text.code === 'ENOENT' ? 'no such file' : `cannot be read (${text.code})`}`);
      }
      continue;
    }
    const key = parsePrivateKey(text);
    if (key instanceof Error) {
      if (ENCRYPTED.test(key.message)) {
        keyFiles.push(file);
        notes.push(
          settings.agentSocket
            ? `${file} is passphrase-protected and was left to the agent: if the agent does not hold it, run: ssh-add ${file}`
            : `${file} is passphrase-protected and no ssh-agent is running: start one and load the key with: eval "$(ssh-agent)" && ssh-add ${file}`,
        );
      } else {
        notes.push(`${file} is not a private key this program can read`);
      }
      continue;
    }
    if (!key.isPrivateKey()) {
      notes.push(`${file} holds a public key, not a private one`);
      continue;
    }
    methods.push({ type: 'publickey', username, key });
    offered.push(file);
    keyFiles.push(file);
  }
  return { methods, offered, notes, keyFiles };
}

/** ssh2's parseKey returns an array (despite its types) for the `openssh-key-v1` format: one key per file. */
function parsePrivateKey(text: Buffer): ParsedKey | Error {
  const parsed: ParsedKey | Error | readonly ParsedKey[] = ssh2.utils.parseKey(text);
  if (!isKeyList(parsed)) return parsed;
  return parsed[0] ?? new Error('no key in the file');
}

function isKeyList(value: ParsedKey | Error | readonly ParsedKey[]): value is readonly ParsedKey[] {
  return Array.isArray(value);
}
