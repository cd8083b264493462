import { GitError, gitText } from './run';

/** One git config value as git resolves it in `cwd` (repository, then global and system), or null when unset. */
async function configValue(cwd: string, name: string): Promise<string | null> {
  try {
    const v = (await gitText(['config', '--get', name], cwd, { timeoutMs: 30_000, maxBytes: 64 << 10 })).trim();
    return v === '' ? null : v;
  } catch (e) {
    if (e instanceof GitError && e.code === 1) return null;
    throw e;
  }
}

/**
 * The engineer's git signing setup (`gpg.format`, `user.signingkey`), read where git would for a commit in `cwd`:
 * with `gpg.format ssh`, the key git signs commits with is the key a summary can be signed with too.
 */
export async function gitSigningConfig(cwd: string): Promise<{ format: string | null; key: string | null }> {
  const [format, key] = await Promise.all([configValue(cwd, 'gpg.format'), configValue(cwd, 'user.signingkey')]);
  return { format, key };
}
