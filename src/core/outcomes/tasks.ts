/**
 * Tasks (issue keys) and PR numbers, from branch names and commit messages (pure).
 *
 * Default patterns (docs/linking.md): `ABC-123` (Jira-style keys), `#123` and `GH-123` (GitHub issues; both normalise
 * to `#123`). PR numbers are read first from merge and squash subjects so "Merge pull request #45" or "Fix x (#45)" is
 * a PR, never a task.
 */

export interface TaskPatterns {
  /** Regular expressions (source text); each match's first capture group, or the whole match, is the key. */
  patterns: readonly string[];
}

/** Upper-case words that look like keys but are standards and encodings ("UTF-8", "SHA-256", "ISO-8601"). */
const NOT_KEYS = new Set([
  'UTF',
  'SHA',
  'ISO',
  'RFC',
  'CVE',
  'TLS',
  'SSL',
  'AES',
  'MD',
  'HTTP',
  'PEP',
  'ES',
  'IE',
  'WCAG',
  'UTC',
  'GMT',
  'ANSI',
  'ASCII',
  'IEEE',
  'X',
  'RSA',
  'ECMA',
  'CP',
  'WIN',
  'PR',
  'MR',
  'V',
  'VER',
  'BUILD',
  'RELEASE',
  'HOTFIX',
  'FIX',
  'FEATURE',
  'FEAT',
  'BUGFIX',
  'BUG',
  'WIP',
  'TEST',
  'TESTS',
  'UPDATE',
  'PATCH',
  'BUMP',
  'DEPS',
  'STEP',
  'PART',
  'PHASE',
  'DAY',
  'WEEK',
  'Q',
  'H',
  'TOP',
  'NODE',
  'PY',
  'PYTHON',
  'GO',
  'JAVA',
  'API',
  'CHORE',
  'DOCS',
  'GH',
]);

/** `ABC-123` keys, `GH-123` and `#123` issues; the group order matters (GH before the generic key). */
export const DEFAULT_TASK_PATTERNS: TaskPatterns = {
  patterns: [
    '\\b[Gg][Hh]-(\\d{1,7})\\b',
    '\\b([A-Z][A-Z0-9]{0,9}-[1-9]\\d{0,6})\\b',
    '(?:^|[\\s(\\[,;:])#(\\d{1,7})\\b',
  ],
};

const PR_SUBJECTS: readonly RegExp[] = [
  /^Merge pull request #(\d+)\b/,
  /\(#(\d+)\)\s*$/, // GitHub squash / rebase merges: "Title (#45)"
  /^Merged in .* \(pull request #(\d+)\)/, // Bitbucket
];
const MR_BODY = /See merge request [^\s!]+!(\d+)/; // GitLab merge commits

/** The PR (or merge request) a merge or squash subject names, or null. */
export function prOf(subject: string, body = ''): number | null {
  for (const re of PR_SUBJECTS) {
    const m = re.exec(subject);
    if (m?.[1]) return Number(m[1]);
  }
  const mr = MR_BODY.exec(body);
  return mr?.[1] ? Number(mr[1]) : null;
}

/** The branch a merge subject names ("Merge pull request #4 from acme/feature/PAY-7", "Merge branch 'x' into main"). */
export function mergedBranchOf(subject: string): string | null {
  let m = /^Merge pull request #\d+ from [^/\s]+\/(\S+)/.exec(subject);
  if (m?.[1]) return m[1];
  m = /^Merge (?:remote-tracking )?branch '([^']+)'/.exec(subject);
  if (m?.[1]) return m[1].replace(/^origin\//, '');
  m = /^Merged in (\S+) \(pull request #\d+\)/.exec(subject);
  return m?.[1] ?? null;
}

function normalise(key: string): string | null {
  if (/^\d+$/.test(key)) return `#${key}`;
  const up = key.toUpperCase();
  const dash = up.lastIndexOf('-');
  const prefix = dash > 0 ? up.slice(0, dash) : up;
  if (NOT_KEYS.has(prefix)) return null;
  return up;
}

/** Compiled patterns (cached per pattern list: thousands of commits share one). */
const compiled = new Map<string, RegExp[]>();
function regexps(p: TaskPatterns): RegExp[] {
  const k = p.patterns.join('\u0000');
  let r = compiled.get(k);
  if (!r) {
    r = p.patterns.map((s) => new RegExp(s, 'g'));
    compiled.set(k, r);
  }
  return r;
}

/** Validates user-given patterns; returns a message for the first bad one, or null. */
export function invalidPattern(patterns: readonly string[]): string | null {
  for (const p of patterns) {
    try {
      new RegExp(p, 'g');
    } catch (e) {
      return `task pattern "${p}" is not a valid regular expression (${(e as Error).message})`;
    }
  }
  return null;
}

/** Task keys in free text (a commit message): PR references are removed first. */
export function tasksInText(text: string, p: TaskPatterns = DEFAULT_TASK_PATTERNS): string[] {
  const cleaned = text
    .replace(/^Merge pull request #\d+/gm, '')
    .replace(/\(#\d+\)\s*$/gm, '')
    .replace(/pull request #\d+/gi, '')
    .replace(/merge request \S*!\d+/gi, '');
  const out = new Set<string>();
  for (const re of regexps(p)) {
    re.lastIndex = 0;
    for (const m of cleaned.matchAll(re)) {
      const key = normalise(m[1] ?? m[0]);
      if (key) out.add(key);
    }
  }
  return [...out].sort();
}

/**
 * Task keys in a branch name. Branch names are often lower case ("pay-7-fix-rounding"), so a key is also accepted in
 * lower case, but only as a whole path segment or the start of one, where a key is conventionally placed.
 */
export function tasksInBranch(branch: string, p: TaskPatterns = DEFAULT_TASK_PATTERNS): string[] {
  // Reports ask for thousands of sessions' branches, most of them repeated: remember recent answers (bounded).
  const key = `${p.patterns.join('\u0000')}\u0001${branch}`;
  const hit = branchCache.get(key);
  if (hit) return [...hit];
  if (branchCache.size > 20_000) branchCache.clear();
  const keys = branchTasks(branch, p);
  branchCache.set(key, keys);
  return [...keys];
}

const branchCache = new Map<string, readonly string[]>();

function branchTasks(branch: string, p: TaskPatterns): string[] {
  const out = new Set(tasksInText(branch, p).filter((k) => !k.startsWith('#')));
  for (const seg of branch.split('/')) {
    const m = /^([a-zA-Z][a-zA-Z0-9]{0,9})-([1-9]\d{0,6})(?:$|[-_.])/.exec(seg);
    if (m?.[1] && m[2]) {
      const prefix = m[1].toLowerCase();
      if (prefix === 'gh' || prefix === 'issue' || prefix === 'issues') out.add(`#${m[2]}`);
      else {
        const key = normalise(`${m[1]}-${m[2]}`);
        if (key) out.add(key);
      }
    }
    const num = /^(\d{1,7})(?:$|[-_])/.exec(seg);
    if (num?.[1] && seg !== branch) out.add(`#${num[1]}`); // "fix/123-typo"; a bare numeric branch is too ambiguous
  }
  return [...out].sort();
}
