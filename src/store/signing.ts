import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canonicalJson } from '../core/common/canonical';
import { writeFileAtomic } from './atomic';
import { withDiskFaults } from './diskFault';

/**
 * The engineer's signing key: Ed25519 (node:crypto), created on first use in the ledger home with owner-only
 * permissions, used to sign outcome summaries and team rollups. A signature proves a file was not edited after export
 * by the holder of this key; it cannot prove the logs the figures came from were genuine.
 */
const SIGNATURE_ALGORITHM = 'Ed25519';

/** How a signed export names its signature: the key (raw, base64), its fingerprint, and the signature (base64). */
export interface Signature {
  algorithm: typeof SIGNATURE_ALGORITHM;
  publicKey: string;
  fingerprint: string;
  value: string;
}

export interface SigningKey {
  /** The raw 32-byte public key, base64. */
  readonly publicKey: string;
  readonly fingerprint: string;
  /** Where the private key lives (for messages: "keep this file private"). */
  readonly file: string;
  /** Signs the canonical JSON of `payload`. */
  signCanonical(payload: unknown): Signature;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key is the 32 bytes after it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function keyPaths(home: string): { dir: string; privateKey: string; publicKey: string } {
  const dir = path.join(home, 'keys');
  return { dir, privateKey: path.join(dir, 'signing-ed25519.pem'), publicKey: path.join(dir, 'signing-ed25519.pub') };
}

/** `SHA256:` and the first 16 bytes of the SHA-256 of the raw key, hex in groups of four: short enough to read aloud. */
export function fingerprintOf(publicKeyB64: string): string {
  const hex = createHash('sha256').update(Buffer.from(publicKeyB64, 'base64')).digest('hex').slice(0, 32);
  return `SHA256:${hex.match(/.{4}/g)!.join(':')}`;
}

/** SHA-256 (hex) of a text's UTF-8 bytes, e.g. of the canonical JSON of the records a figure came from. */
export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function rawPublicKey(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64');
}

/**
 * Public keys seen lately (a team merge checks several files per member, usually one after another). Bounded, per
 * thread (each of a merge's checking workers has its own): the oldest entry goes first. Small, since a key holds
 * OpenSSL memory and importing one (as a JWK) costs a few microseconds.
 */
const recentKeys = new Map<string, KeyObject>();
const RECENT_KEYS = 256;

function publicKeyFromRaw(b64: string): KeyObject | undefined {
  const cached = recentKeys.get(b64);
  if (cached) return cached;
  const key = importRawKey(b64);
  if (key) {
    if (recentKeys.size >= RECENT_KEYS) recentKeys.delete(recentKeys.keys().next().value as string);
    recentKeys.set(b64, key);
  }
  return key;
}

function importRawKey(b64: string): KeyObject | undefined {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== b64) return undefined;
  try {
    // As a JWK (the raw key in base64url): OpenSSL imports it about three times faster than the same key as DER.
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

export class SigningKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SigningKeyError';
  }
}

/**
 * The key in `home`, created on first use. Several windows and the CLI may race to create it: the key is written to a
 * temporary file and hard-linked into place, so exactly one wins and nobody reads a half-written key.
 */
export function loadOrCreateSigningKey(home: string): SigningKey {
  const p = keyPaths(home);
  let pem: string;
  try {
    pem = fs.readFileSync(p.privateKey, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new SigningKeyError(`cannot read the signing key ${p.privateKey}: ${(e as Error).message}`);
    pem = createKey(p);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new SigningKeyError(
      `the signing key ${p.privateKey} is damaged; move it aside to create a new one (summaries signed with it can still be verified: they carry their public key)`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${p.privateKey} is not an Ed25519 key`);
  return signingKey(key, p.privateKey);
}

/** A fresh key that lives only in memory (synthetic rollups for tests and the benchmark: no key file per member). */
export function ephemeralSigningKey(): SigningKey {
  return signingKey(generateKeyPairSync('ed25519').privateKey, '(in memory)');
}

function signingKey(key: KeyObject, file: string): SigningKey {
  const publicKey = rawPublicKey(createPublicKey(key));
  const fingerprint = fingerprintOf(publicKey);
  return {
    publicKey,
    fingerprint,
    file,
    signCanonical(payload: unknown): Signature {
      const value = sign(null, Buffer.from(canonicalJson(payload), 'utf8'), key).toString('base64');
      return { algorithm: SIGNATURE_ALGORITHM, publicKey, fingerprint, value };
    },
  };
}

function createKey(p: ReturnType<typeof keyPaths>): string {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return withDiskFaults('create the signing key', p.dir, () => {
    // Exclusive: of several windows racing, exactly one key is created and the others read it.
    if (!writeFileAtomic(p.privateKey, pem, { mode: 0o600, exclusive: true, mkdirMode: 0o700 }))
      return fs.readFileSync(p.privateKey, 'utf8');
    const pub = rawPublicKey(publicKey);
    writeFileAtomic(p.publicKey, `${SIGNATURE_ALGORITHM} ${pub} ${fingerprintOf(pub)}\n`, { mode: 0o644 });
    return pem;
  });
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** Checks a signature over the canonical JSON of `payload`, naming what is wrong when it does not hold. */
export function verifyCanonical(payload: unknown, sig: Signature): VerifyResult {
  if (sig.algorithm !== SIGNATURE_ALGORITHM)
    return {
      ok: false,
      reason: `unsupported signature algorithm ${JSON.stringify(sig.algorithm)} (expected ${SIGNATURE_ALGORITHM})`,
    };
  const key = publicKeyFromRaw(sig.publicKey);
  if (!key) return { ok: false, reason: 'the public key is not a 32-byte Ed25519 key in base64' };
  if (fingerprintOf(sig.publicKey) !== sig.fingerprint)
    return {
      ok: false,
      reason: `the fingerprint ${sig.fingerprint} does not belong to the embedded public key (it is ${fingerprintOf(sig.publicKey)})`,
    };
  const value = Buffer.from(sig.value, 'base64');
  if (value.length !== 64 || value.toString('base64') !== sig.value)
    return { ok: false, reason: 'the signature is not 64 bytes of base64' };
  let text: string;
  try {
    text = canonicalJson(payload);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  return verify(null, Buffer.from(text, 'utf8'), key, value)
    ? { ok: true }
    : {
        ok: false,
        reason:
          'the signature does not match the content: the file was changed after it was signed (or signed by another key)',
      };
}
