/**
 * A year of heavy use written straight into a ledger (no log files, no git): the sidebar's benchmark and its
 * first-paint test in VS Code need 100,000 interactions and 3,000 sessions with commits, links in every state,
 * labels, prompts and kept lines, built in seconds. Records go through RecordWriter, as an import would write them,
 * so the rollup, sessions, files and branches are exactly what a real import leaves.
 */
import type { FileStat } from '../core/outcomes/commits';
import type { Evidence } from '../core/outcomes/linking';
import type { EditRecord, InteractionRecord, PromptRecord, SourceName } from '../core/usage/model';
import type { Ledger } from '../store/ledger';
import { insertCommits, LinkWriter, saveKept, saveRepoPath, setDecision, upsertRepo } from '../store/outcomes';
import { RecordWriter } from '../store/records';
import { setMeta } from '../store/schema';
import { Rng } from './rng';

export interface HeavyOptions {
  sessions?: number;
  interactions?: number;
  /** Span of the history, ending at `end`. */
  days?: number;
  end?: number;
  repos?: number;
  seed?: number;
  /** Where the fake repositories "are" (paths only: nothing is created). */
  root?: string;
}

export interface HeavyLedger {
  sessions: number;
  interactions: number;
  commits: number;
  links: number;
  buildMs: number;
}

const DAY = 86_400_000;
const MIN = 60_000;
const FILES = [
  'src/api/client.ts',
  'src/api/routes.ts',
  'src/ui/panel.ts',
  'src/ui/chart.ts',
  'src/core/model.ts',
  'src/core/rules.ts',
  'src/db/schema.sql',
  'src/db/migrate.ts',
  'test/api.test.ts',
  'test/ui.test.ts',
  'README.md',
  'docs/design.md',
  'package.json',
  'src/auth/session.ts',
  'src/auth/tokens.ts',
  'src/jobs/queue.ts',
];
const PROMPTS = [
  'fix the failing test',
  'add pagination to the list endpoint',
  'why is this slow?',
  'refactor the session handling',
  'write tests for the parser',
  'continue',
  'try again',
  'explain this error',
  'update the docs',
  'make the build pass',
];
const LABELS = ['exploration', 'learning', 'review', 'abandoned'] as const;

/** Writes the history into `ledger` (which should be empty) and returns what it wrote. */
export async function buildHeavyLedger(ledger: Ledger, o: HeavyOptions = {}): Promise<HeavyLedger> {
  const t0 = Date.now();
  const nSessions = o.sessions ?? 3_000;
  const nInteractions = o.interactions ?? 100_000;
  const days = o.days ?? 365;
  const end = o.end ?? Date.now();
  const nRepos = o.repos ?? 6;
  const root = o.root ?? '/work/repos';
  const r = new Rng(o.seed ?? 11);
  const repos = Array.from({ length: nRepos }, (_, i) => `${root}/service-${String.fromCharCode(97 + i)}`);
  // Interactions per session: a long tail, scaled so the total is exact.
  const weights = Array.from({ length: nSessions }, () => 0.2 + r.next() ** 3 * 6);
  const wsum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map((w) => Math.max(1, Math.floor((w / wsum) * nInteractions)));
  let short = nInteractions - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; short > 0; i = (i + 1) % nSessions, short--) counts[i] = (counts[i] ?? 0) + 1;

  interface Planned {
    key: string;
    source: SourceName;
    repo: string;
    branch: string;
    task: string | null;
    start: number;
    end: number;
    files: string[];
    fate: 'shipped' | 'candidate' | 'none' | 'label' | 'rejected' | 'confirmed';
  }
  const planned: Planned[] = [];
  for (let i = 0; i < nSessions; i++) {
    const start = end - days * DAY + Math.floor((i / nSessions) * days * DAY) + r.int(0, 60) * MIN;
    const n = counts[i] ?? 1;
    const task = r.chance(0.6) ? `PAY-${r.int(100, 400)}` : null;
    const roll = r.next();
    const fate: Planned['fate'] =
      roll < 0.55
        ? 'shipped'
        : roll < 0.68
          ? 'candidate'
          : roll < 0.8
            ? 'none'
            : roll < 0.9
              ? 'label'
              : roll < 0.95
                ? 'rejected'
                : 'confirmed';
    const files = fate === 'none' && r.chance(0.5) ? [] : r.shuffle([...FILES]).slice(0, r.int(1, 5));
    planned.push({
      key: `heavy-${o.seed ?? 11}-${i}`,
      source: r.chance(0.75) ? 'claude-code' : 'codex',
      repo: r.pick(repos),
      branch: task ? `feature/${task}` : 'main',
      task,
      start,
      end: Math.min(end - MIN, start + n * r.int(40, 300) * 1000),
      files,
      fate,
    });
  }

  let interactions = 0;
  let commits = 0;
  let links = 0;
  await ledger.write((db) => {
    const w = new RecordWriter(db, { repoOf: (cwd) => cwd });
    for (let i = 0; i < planned.length; i++) {
      const p = planned[i] as Planned;
      const session = { source: p.source, sessionId: p.key, cwd: p.repo, branch: p.branch };
      const logPath = `${root}/logs/${p.key}.jsonl`;
      const n = counts[i] ?? 1;
      const model =
        p.source === 'codex'
          ? 'gpt-5-codex'
          : r.chance(0.12)
            ? 'claude-opus-4-5-20251101'
            : 'claude-sonnet-4-5-20250929';
      for (let k = 0; k < n; k++) {
        const ts = Math.round(p.start + ((p.end - p.start) * k) / Math.max(1, n - 1));
        const rec: InteractionRecord = {
          kind: 'interaction',
          key: `${p.key}:${k}`,
          session,
          timestamp: ts,
          model,
          tokens: {
            input: r.int(5, 3_000),
            output: r.int(50, 4_000),
            cacheRead: r.int(2_000, 150_000),
            cacheWrite: r.int(0, 20_000),
            reasoning: 0,
          },
          cacheWrite1h: 0,
          sidechain: false,
        };
        w.add(rec, logPath);
        interactions++;
        if (k % 3 === 0) {
          const prompt: PromptRecord = {
            kind: 'prompt',
            key: `${p.key}:p${k}`,
            session,
            timestamp: ts,
            text: r.chance(0.3) ? r.pick(PROMPTS) : `${r.pick(PROMPTS)} ${r.hex(8)}`,
          };
          w.add(prompt, logPath);
        }
      }
      for (const f of p.files) {
        const edit: EditRecord = { kind: 'edit', session, timestamp: p.end, path: `${p.repo}/${f}` };
        w.add(edit, logPath);
      }
    }
    w.free();

    const refs = new Map<string, number>();
    for (const [id, key] of db.exec('SELECT id, session_key FROM sessions')[0]?.values ?? [])
      refs.set(String(key), Number(id));
    const repoIds = new Map<string, number>();
    for (const repo of repos) {
      const id = upsertRepo(db, { commonDir: `${repo}/.git`, root: repo, me: 'alex.kim@example.com' });
      saveRepoPath(db, { path: repo, repoRef: id, state: 'ok' });
      repoIds.set(repo, id);
    }
    // One or two commits right after each session that produced something, plus teammates' commits.
    const byRepo = new Map<
      string,
      Array<{
        plan: Planned | null;
        sha: string;
        at: number;
        files: FileStat[];
        subject: string;
        tasks: string[];
        pr: number | null;
      }>
    >();
    let pr = 1;
    for (const p of planned) {
      if (p.fate === 'none' || p.fate === 'label') continue;
      const nCommits = r.chance(0.3) ? 2 : 1;
      for (let c = 0; c < nCommits; c++) {
        const list = byRepo.get(p.repo) ?? [];
        const landed = p.task !== null && r.chance(0.4);
        list.push({
          plan: p,
          sha: r.hex(40),
          at: p.end + r.int(2, 50) * MIN + c * MIN,
          files: p.files.map((f) => ({ path: f, added: r.int(1, 120), removed: r.int(0, 40) })),
          subject: `${p.task ? `${p.task} ` : ''}${r.pick(['fix', 'add', 'refactor', 'test', 'document'])} ${r.pick(['the client', 'pagination', 'session refresh', 'the queue', 'the chart'])}${landed ? ` (#${pr})` : ''}`,
          tasks: p.task ? [p.task] : [],
          pr: landed ? pr++ : null,
        });
        byRepo.set(p.repo, list);
      }
    }
    for (const [repo, list] of byRepo) {
      const id = repoIds.get(repo) as number;
      commits += insertCommits(
        db,
        id,
        list.map((c) => ({
          sha: c.sha,
          parents: [],
          authorTime: c.at,
          commitTime: c.at,
          subject: c.subject,
          files: c.files,
          flags: 0,
          tasks: c.tasks,
          pr: c.pr,
          mergedBranch: null,
        })),
      );
    }
    const commitIds = new Map<string, number>();
    for (const [id, sha] of db.exec('SELECT id, sha FROM commits')[0]?.values ?? [])
      commitIds.set(String(sha), Number(id));
    const writer = new LinkWriter(db);
    const kept: Array<{ commitRef: number; head: string; kept: number }> = [];
    for (const list of byRepo.values()) {
      for (const c of list) {
        const p = c.plan as Planned;
        const ref = refs.get(p.key);
        const commitRef = commitIds.get(c.sha);
        if (ref === undefined || commitRef === undefined) continue;
        const confidence = p.fate === 'shipped' ? 0.6 + r.next() * 0.38 : 0.3 + r.next() * 0.29;
        const evidence: Evidence[] = [
          { kind: 'branch', text: `same branch ${p.branch}`, weight: 1.2 },
          { kind: 'files', text: `edited ${p.files.length} of its ${c.files.length} files`, weight: 1 },
          { kind: 'time', text: `committed ${Math.round((c.at - p.end) / MIN)} min after the last reply`, weight: 1.5 },
        ];
        writer.replace(ref, [{ commitRef, confidence: Math.round(confidence * 1000) / 1000, evidence }]);
        if (p.fate === 'rejected')
          setDecision(db, ref, commitRef, 'rejected', [{ kind: 'manual', text: 'rejected by you', weight: 0 }]);
        if (p.fate === 'confirmed')
          setDecision(db, ref, commitRef, 'confirmed', [{ kind: 'manual', text: 'confirmed by you', weight: 0 }]);
        links++;
        if (end - c.at > 30 * DAY)
          kept.push({
            commitRef,
            head: 'f'.repeat(40),
            kept: c.files.reduce((s, f) => s + Math.round((f.added ?? 0) * (0.4 + r.next() * 0.6)), 0),
          });
      }
    }
    writer.free();
    saveKept(db, kept);
    for (const p of planned) {
      if (p.fate !== 'label') continue;
      const ref = refs.get(p.key);
      if (ref !== undefined) db.run('UPDATE sessions SET label = ? WHERE id = ?', [r.pick(LABELS), ref]);
    }
    setMeta(db, 'first_import', new Date(end - days * DAY).toISOString());
    setMeta(db, 'last_new_data', new Date(end).toISOString());
  });
  return { sessions: nSessions, interactions, commits, links, buildMs: Date.now() - t0 };
}
