import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from './atomic';

/**
 * Signing a summary with the engineer's git SSH signing key (`user.signingkey` with `gpg.format ssh`), the way git
 * signs commits: `ssh-keygen -Y sign` over the signed bytes with a namespace of our own, checked with
 * `ssh-keygen -Y verify` and an allowed-signers file holding the key the summary names. A reviewer can compare the
 * key's fingerprint with the signing key the engineer publishes on their code host.
 *
 * ssh-keygen runs without a shell (an argument list), with a timeout and bounded output; every file it reads is ours
 * (in a private temporary folder), so nothing in a summary reaches a command line.
 */

export class SshSignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SshSignError';
  }
}

/** `ssh-keygen` output beyond this is not a signature. */
const MAX_OUTPUT = 1 << 20;
const TIMEOUT_MS = 30_000;

export interface SshSignature {
  algorithm: 'ssh';
  /** `type base64`, read out of the signature itself. */
  publicKey: string;
  /** As `ssh-keygen -l` prints it: `SHA256:` and the unpadded base64 of the key blob's SHA-256. */
  fingerprint: string;
  namespace: string;
  /** The armored signature (`-----BEGIN SSH SIGNATURE-----`…). */
  value: string;
}

function keygen(
  args: readonly string[],
  input: string | Buffer,
): { status: number | null; stdout: string; stderr: string; missing: boolean } {
  const r = spawnSync('ssh-keygen', args, {
    input,
    timeout: TIMEOUT_MS,
    maxBuffer: MAX_OUTPUT,
    windowsHide: true,
    env: { ...process.env, LC_ALL: 'C' },
  });
  const missing = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
  return {
    status: r.status,
    stdout: r.stdout?.toString('utf8') ?? '',
    stderr: r.stderr?.toString('utf8') ?? '',
    missing,
  };
}

const NO_KEYGEN =
  'ssh-keygen (OpenSSH) was not found on PATH: install OpenSSH (Debian/Ubuntu: apt-get install openssh-client)';

/** The fingerprint of an OpenSSH public key `type base64 [comment]`, as `ssh-keygen -l` prints it. */
export function sshFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Reads the public key out of an armored SSHSIG (its blob names the key that made it), as `type base64`. */
export function publicKeyOfSignature(armored: string): string | undefined {
  const body = armored.replace(/-----(BEGIN|END) SSH SIGNATURE-----/g, '').replace(/\s+/g, '');
  const bytes = Buffer.from(body, 'base64');
  if (bytes.length < 14 || bytes.subarray(0, 6).toString('latin1') !== 'SSHSIG') return undefined;
  const keyLength = bytes.readUInt32BE(10);
  if (keyLength < 4 || 14 + keyLength > bytes.length) return undefined;
  const blob = bytes.subarray(14, 14 + keyLength);
  const typeLength = blob.readUInt32BE(0);
  if (4 + typeLength > blob.length) return undefined;
  const type = blob.subarray(4, 4 + typeLength).toString('latin1');
  if (!/^[a-z0-9@.-]{3,64}$/.test(type)) return undefined;
  return `${type} ${blob.toString('base64')}`;
}

function withTempDir<T>(f: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ol-ssh-'));
  try {
    return f(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Signs `data` with the key git would sign commits with. `signingKey` is git's `user.signingkey`: a key file (private,
 * or public with its private half in ssh-agent), or the key itself (`key::ssh-ed25519 AAAA…`, or `ssh-ed25519 AAAA…`).
 */
export function sshSign(signingKey: string, namespace: string, data: string, home = os.homedir()): SshSignature {
  const literal = /^key::/.test(signingKey)
    ? signingKey.slice(5).trim()
    : /^(ssh-|ecdsa-|sk-)/.test(signingKey)
      ? signingKey.trim()
      : undefined;
  const sign = (keyFile: string): SshSignature => {
    const r = keygen(['-Y', 'sign', '-n', namespace, '-f', keyFile], data);
    if (r.missing) throw new SshSignError(NO_KEYGEN);
    if (r.status !== 0) {
      const why =
        r.stderr
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !/^Signing data on standard input/.test(l))[0] ??
        `ssh-keygen exited with ${r.status ?? 'a timeout'}`;
      throw new SshSignError(
        `ssh-keygen could not sign with the git signing key ${keyFile}: ${why} (a key with a passphrase must be loaded in ssh-agent)`,
      );
    }
    const value = r.stdout.trim() + '\n';
    const publicKey = publicKeyOfSignature(value);
    if (!publicKey) throw new SshSignError('ssh-keygen wrote no SSH signature');
    return { algorithm: 'ssh', publicKey, fingerprint: sshFingerprint(publicKey), namespace, value };
  };
  if (literal !== undefined) {
    return withTempDir((dir) => {
      const file = path.join(dir, 'signing-key.pub');
      writeFileAtomic(file, `${literal}\n`);
      return sign(file);
    });
  }
  const file = signingKey.startsWith('~/') ? path.join(home, signingKey.slice(2)) : signingKey;
  if (!fs.existsSync(file))
    throw new SshSignError(`the git signing key ${file} (git config user.signingkey) does not exist`);
  return sign(file);
}

export type SshVerifyResult = { ok: true } | { ok: false; reason: string; missing?: boolean };

/** Checks an SSH signature over `data` by `publicKey` (an allowed-signers file holding that key alone). */
export function sshVerify(publicKey: string, namespace: string, armored: string, data: string): SshVerifyResult {
  const embedded = publicKeyOfSignature(armored);
  if (!embedded) return { ok: false, reason: 'the SSH signature cannot be read (not an SSHSIG)' };
  if (embedded !== publicKey.trim())
    return { ok: false, reason: 'the SSH signature was made by another key than the one the file names' };
  return withTempDir((dir) => {
    const allowed = path.join(dir, 'allowed_signers');
    const sig = path.join(dir, 'summary.sig');
    writeFileAtomic(allowed, `summary-signer namespaces="${namespace}" ${publicKey.trim()}\n`);
    writeFileAtomic(sig, armored);
    const r = keygen(['-Y', 'verify', '-f', allowed, '-I', 'summary-signer', '-n', namespace, '-s', sig], data);
    if (r.missing)
      return {
        ok: false,
        reason: `this summary is signed with an SSH key; checking it needs ${NO_KEYGEN}`,
        missing: true,
      };
    if (r.status === 0) return { ok: true };
    return {
      ok: false,
      reason:
        'the signature does not match the content: the file was changed after it was signed (or signed by another key)',
    };
  });
}
