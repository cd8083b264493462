import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  appendClaudeTurn,
  appendCodexTurn,
  buildWorld,
  encodeProjectDir,
  type World,
  type WorldOptions,
} from '../../src/demo/world';
import { truthTotals, utcDay, type TruthInteraction } from '../../src/demo/truth';

// ------------------------------------------------------------------------------------------------------------
// An independent, deliberately naive reader of the world's logs (the reading rules of docs/sources.md, nothing more).

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function count(v: unknown): number | null {
  if (v === undefined || v === null) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

function walk(dir: string, out: string[] = []): string[] {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.jsonl')) out.push(p);
  }
  return out.sort();
}

/** Complete lines only (a trailing partial line is ignored), parsed; unparsable lines are skipped. */
function readObjs(file: string): Obj[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.pop();
  const out: Obj[] = [];
  for (const l of lines) {
    try {
      const v: unknown = JSON.parse(l);
      if (isObj(v)) out.push(v);
    } catch {
      // bad line
    }
  }
  return out;
}

function naiveRead(world: World): TruthInteraction[] {
  const out: TruthInteraction[] = [];
  // Claude Code: dedupe by message.id + requestId, keep the largest total, prefer non-sidechain on ties.
  const best = new Map<string, TruthInteraction & { total: number }>();
  for (const root of world.claudeRoots) {
    for (const file of walk(path.join(root, 'projects'))) {
      for (const o of readObjs(file)) {
        if (o.type !== 'assistant' || o.isApiErrorMessage === true || !isObj(o.message)) continue;
        const m = o.message;
        if (m.model === '<synthetic>' || typeof m.model !== 'string' || typeof m.id !== 'string' || !isObj(m.usage))
          continue;
        const u = m.usage;
        const input = count(u.input_tokens);
        const output = count(u.output_tokens);
        const cw = count(u.cache_creation_input_tokens);
        const cr = count(u.cache_read_input_tokens);
        if (input === null || output === null || cw === null || cr === null) continue;
        const cw1h = isObj(u.cache_creation) ? (count(u.cache_creation.ephemeral_1h_input_tokens) ?? 0) : 0;
        const key = `${m.id}:${typeof o.requestId === 'string' ? o.requestId : ''}`;
        const total = input + output + cw + cr;
        const sidechain = o.isSidechain === true;
        const prev = best.get(key);
        if (!prev || total > prev.total || (total === prev.total && prev.sidechain && !sidechain)) {
          best.set(key, {
            source: 'claude-code',
            sessionId: String(o.sessionId),
            model: m.model,
            timestamp: Date.parse(String(o.timestamp)),
            input,
            output,
            cacheRead: cr,
            cacheWrite: cw,
            cacheWrite1h: cw1h,
            reasoning: 0,
            sidechain,
            total,
          });
        }
      }
    }
  }
  for (const v of best.values()) {
    const { total: _t, ...ti } = v;
    void _t;
    out.push(ti);
  }
  // Codex: one file per name (active first), deltas of total_token_usage; a drop counts last_token_usage.
  const seen = new Set<string>();
  const files = [
    ...walk(path.join(world.codexHome, 'sessions')),
    ...walk(path.join(world.codexHome, 'archived_sessions')),
  ];
  const usage = (v: unknown): number[] | null => {
    if (!isObj(v)) return null;
    const xs = [v.input_tokens, v.cached_input_tokens, v.output_tokens, v.reasoning_output_tokens, v.total_tokens].map(
      count,
    );
    return xs.every((x): x is number => x !== null) ? xs : null;
  };
  for (const file of files) {
    if (seen.has(path.basename(file))) continue;
    seen.add(path.basename(file));
    let model = 'gpt-5';
    let session = '';
    let prev: number[] = [0, 0, 0, 0, 0];
    for (const o of readObjs(file)) {
      const p = o.payload;
      if (!isObj(p)) continue;
      if (o.type === 'session_meta' && typeof p.id === 'string') session = p.id;
      if (o.type === 'turn_context' && typeof p.model === 'string') model = p.model;
      if (o.type !== 'event_msg' || p.type !== 'token_count' || !isObj(p.info)) continue;
      const tot = usage(p.info.total_token_usage);
      const last = usage(p.info.last_token_usage);
      if (!tot || !last) continue;
      let d: number[];
      if ((tot[4] ?? 0) < (prev[4] ?? 0)) d = last;
      else if (tot.every((x, i) => x === prev[i])) continue;
      else d = tot.map((x, i) => x - (prev[i] ?? 0));
      prev = tot;
      const [inp = 0, cached = 0, outp = 0, reas = 0] = d;
      out.push({
        source: 'codex',
        sessionId: session,
        model,
        timestamp: Date.parse(String(o.timestamp)),
        input: inp - cached,
        output: outp,
        cacheRead: cached,
        cacheWrite: 0,
        cacheWrite1h: 0,
        reasoning: reas,
        sidechain: false,
      });
    }
  }
  return out;
}

function byKey(t: TruthInteraction): string {
  return `${t.source}|${t.model}|${utcDay(t.timestamp)}`;
}

function assertSameTotals(world: World): void {
  const naive = naiveRead(world);
  const want = truthTotals(world.truth.interactions, byKey);
  const got = truthTotals(naive, byKey);
  assert.deepEqual([...got.entries()].sort(), [...want.entries()].sort());
  const bySession = (t: TruthInteraction): string => `${t.source}|${t.sessionId}|${t.sidechain}`;
  assert.deepEqual(
    [...truthTotals(naive, bySession).entries()].sort(),
    [...truthTotals(world.truth.interactions, bySession).entries()].sort(),
  );
}

// ------------------------------------------------------------------------------------------------------------

const made: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'olw-'));
  made.push(d);
  return d;
}

function build(o: Omit<WorldOptions, 'root'>): World {
  return buildWorld({ root: tmp(), ...o });
}

/** Every file under the world (logs and repo work trees, not .git internals), with the root path neutralised. */
function digest(world: World): Map<string, string> {
  const m = new Map<string, string>();
  const enc = encodeProjectDir(world.root);
  const visit = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.name === '.git') continue;
      if (e.isDirectory()) visit(p);
      else {
        const rel = path.relative(world.root, p).split(enc).join('<ENC>');
        const body = fs.readFileSync(p, 'utf8').split(world.root).join('<ROOT>');
        m.set(rel, createHash('sha256').update(body).digest('hex'));
      }
    }
  };
  visit(world.root);
  return m;
}

function neutral(world: World): string {
  return JSON.stringify({ truth: world.truth, files: world.files })
    .split(world.root)
    .join('<ROOT>')
    .split(encodeProjectDir(world.root))
    .join('<ENC>');
}

function allLines(files: string[]): string[] {
  return files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'));
}

describe('demo world', function () {
  this.timeout(120_000);

  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it('is deterministic: same seed => same truth and same bytes; another seed differs', () => {
    const a = build({ seed: 7, badLines: 6, halfWrittenTail: true });
    const b = build({ seed: 7, badLines: 6, halfWrittenTail: true });
    const c = build({ seed: 8 });
    assert.equal(a.bytes, b.bytes);
    assert.equal(neutral(a), neutral(b));
    assert.deepEqual(digest(a), digest(b));
    assert.deepEqual(
      a.truth.commits.map((x) => x.sha),
      b.truth.commits.map((x) => x.sha),
    );
    assert.notEqual(neutral(a), neutral(c));
  });

  it('contains every trap, and the git history they refer to', () => {
    const w = build({ seed: 3, badLines: 10, halfWrittenTail: true });
    for (const t of [
      'claude-resumed',
      'claude-subagent',
      'claude-sidechain-dual',
      'claude-synthetic',
      'claude-api-error',
      'claude-no-request-id',
      'claude-cost-usd',
      'claude-root-copy',
      'claude-second-root',
      'claude-code-subdir',
      'claude-code-worktree',
      'claude-model-switch',
      'claude-code-half-written',
      'codex-archived-copy',
      'codex-archived-only',
      'codex-reset',
      'codex-no-turn-context',
      'codex-model-switch',
      'codex-shell-apply-patch',
      'codex-half-written',
      'bad-lines',
      'human-commit',
      'git-squash-merge',
      'git-open-branch',
    ]) {
      assert.ok((w.truth.traps[t] ?? []).length > 0, `trap ${t} missing`);
    }
    assert.equal(w.truth.badLines, 10);
    const claudeFiles = w.claudeRoots.flatMap((r) => walk(path.join(r, 'projects')));
    const claude = allLines(claudeFiles);
    assert.ok(claude.some((l) => l.includes('"model":"<synthetic>"')));
    assert.ok(claude.some((l) => l.includes('"isApiErrorMessage":true')));
    assert.ok(claude.some((l) => l.includes('"costUSD":')));
    assert.ok(
      claude.some(
        (l) =>
          l.includes('"type":"assistant"') &&
          !l.includes('"requestId"') &&
          !l.includes('<synthetic>') &&
          l.includes('"msg_01'),
      ),
    );
    assert.ok(
      claude.some((l) => l.includes('"type":"summary"')) &&
        claude.some((l) => l.includes('"type":"file-history-snapshot"')) &&
        claude.some((l) => l.includes('"type":"system"')),
    );
    for (const tool of [
      '"name":"Edit"',
      '"name":"MultiEdit"',
      '"name":"Write"',
      '"name":"NotebookEdit"',
      '"name":"Read"',
      '"name":"Task"',
      '"type":"create"',
    ]) {
      assert.ok(
        claude.some((l) => l.includes(tool)),
        tool,
      );
    }
    // Subagent files: sidechain lines carrying the parent's session id.
    const sub = claudeFiles.filter((f) => /\/subagents\/agent-[0-9a-f]{8}\.jsonl$/.test(f));
    assert.ok(sub.length > 0);
    for (const f of sub) {
      const parent = path.basename(path.dirname(path.dirname(f)));
      for (const o of readObjs(f)) assert.ok(o.isSidechain === true && o.sessionId === parent);
    }
    // The same session file in both roots.
    const rel = (r: string): Set<string> => new Set(walk(path.join(r, 'projects')).map((f) => path.relative(r, f)));
    const [r0, r1] = w.claudeRoots.map(rel);
    assert.ok(r0 && r1 && [...r0].some((f) => r1.has(f)));
    assert.ok(r1 && r1.size >= 2);
    // Codex: archived copy under the same name, info null, re-emits, drops, both apply_patch routes.
    const active = walk(path.join(w.codexHome, 'sessions'));
    const archived = walk(path.join(w.codexHome, 'archived_sessions'));
    assert.ok(archived.length >= 2);
    assert.ok(
      archived.some((a) =>
        active.some(
          (f) => path.basename(f) === path.basename(a) && fs.readFileSync(f, 'utf8') === fs.readFileSync(a, 'utf8'),
        ),
      ),
    );
    assert.ok(
      active.every((f) =>
        /\/sessions\/\d{4}\/\d{2}\/\d{2}\/rollout-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.jsonl$/.test(f),
      ),
    );
    const codex = allLines([...active, ...archived]);
    assert.ok(codex.some((l) => l.includes('"info":null')));
    assert.ok(codex.some((l) => l.includes('"type":"custom_tool_call"') && l.includes('*** Update File: ')));
    assert.ok(codex.some((l) => l.includes('"type":"custom_tool_call"') && l.includes('*** Add File: ')));
    assert.ok(codex.some((l) => l.includes('"type":"function_call"') && l.includes('[\\"apply_patch\\",')));
    assert.ok([...active, ...archived].some((f) => !fs.readFileSync(f, 'utf8').includes('"type":"turn_context"')));
    let reemits = 0;
    let drops = 0;
    for (const f of active) {
      let prev = -1;
      for (const o of readObjs(f)) {
        const p = o.payload;
        if (!isObj(p) || p.type !== 'token_count' || !isObj(p.info) || !isObj(p.info.total_token_usage)) continue;
        const tot = p.info.total_token_usage.total_tokens;
        if (typeof tot !== 'number') continue;
        if (tot === prev) reemits++;
        if (tot < prev) drops++;
        prev = tot;
      }
    }
    assert.ok(reemits > 0 && drops > 0, `reemits ${reemits} drops ${drops}`);
    // Half-written tails: exactly one Claude and one Codex file end without a newline.
    const partial = [...claudeFiles, ...active, ...archived].filter((f) => !fs.readFileSync(f, 'utf8').endsWith('\n'));
    assert.equal(partial.length, 2);
    // Sessions: a subdirectory cwd, a worktree, explorations without edits.
    const sess = w.truth.sessions;
    assert.ok(sess.some((s) => s.repo !== null && s.cwd !== s.repo && s.cwd.startsWith(`${s.repo}/`)));
    assert.ok(sess.some((s) => s.repo !== null && !w.repos.includes(s.repo)));
    assert.ok(sess.some((s) => s.role === 'exploration' && s.editedFiles.length === 0));
    assert.ok(sess.every((s) => s.logFiles.every((f) => fs.existsSync(f))));
    // Git: real repos, worktree, commits after their sessions touching the edited files, trailers, merges.
    const wt = execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: w.repos[0] ?? '', encoding: 'utf8' });
    assert.ok(w.repos.length === 3 && w.repos.every((r) => fs.existsSync(path.join(r, '.git'))));
    assert.ok(
      wt.split('\n').filter((l) => l.startsWith('worktree ')).length >= 2 ||
        w.repos.some(
          (r) => execFileSync('git', ['worktree', 'list'], { cwd: r, encoding: 'utf8' }).trim().split('\n').length >= 2,
        ),
    );
    const commits = w.truth.commits;
    assert.ok(commits.length >= 15 && commits.length <= 60, `commits ${commits.length}`);
    for (const k of ['human', 'merge', 'squash', 'session'] as const)
      assert.ok(
        commits.some((c) => c.kind === k),
        k,
      );
    assert.ok(commits.some((c) => /co-authored-by: claude <noreply@anthropic\.com>/i.test(c.message)));
    for (const c of commits.filter((x) => x.kind === 'session')) {
      const s = sess.find((x) => x.sessionId === c.sessionIds[0]);
      assert.ok(s, 'commit without its session');
      assert.ok(c.time > s.end && c.time - s.end < 15 * 60_000);
      assert.deepEqual(c.files, s.editedFiles);
      assert.equal(c.branch, s.branch);
      const show = execFileSync('git', ['show', '--name-only', '--format=%H', c.sha], { cwd: c.dir, encoding: 'utf8' })
        .trim()
        .split('\n');
      assert.equal(show[0], c.sha);
      assert.deepEqual(show.slice(1).filter(Boolean).sort(), c.files);
    }
    assert.ok(
      sess.some(
        (s) => s.source === 'codex' && typeof s.gitCommit === 'string' && commits.some((c) => c.sha === s.gitCommit),
      ),
    );
    for (const i of w.truth.interactions) assert.ok(i.timestamp >= w.start && i.timestamp <= w.end);
  });

  it("the truth equals an independent naive reading of the logs (bad lines and half-written tails don't count)", () => {
    const w = build({ seed: 11, badLines: 24, halfWrittenTail: true });
    assert.ok(w.truth.interactions.length > 50);
    assert.ok(w.truth.interactions.some((i) => i.cacheWrite1h > 0));
    assert.ok(w.truth.interactions.some((i) => i.modelAssumed === true && i.model === 'gpt-5'));
    assert.ok(w.truth.interactions.some((i) => i.costUSD !== undefined));
    assert.ok(w.truth.interactions.some((i) => i.sidechain));
    assertSameTotals(w);
    // Summing every Claude line instead would over-count.
    const models = new Set(w.truth.interactions.map((i) => i.model));
    for (const m of ['claude-sonnet-4-5-20250929', 'claude-opus-4-5-20251101', 'claude-haiku-4-5-20251001'])
      assert.ok(models.has(m), m);
    assert.ok(!models.has('<synthetic>'));
  });

  it('appends complete turns to live logs, completing half-written lines first', () => {
    const w = build({ seed: 5, halfWrittenTail: true });
    const before = w.truth.interactions.length;
    const pendingFiles = Object.keys(w.state.pending);
    assert.equal(pendingFiles.length, 2);
    for (const pend of Object.values(w.state.pending)) {
      const added =
        pend.source === 'claude-code'
          ? appendClaudeTurn(w, pend.sessionId, { edits: ['README.md'], creates: ['src/added-live.ts'] })
          : appendCodexTurn(w, pend.sessionId, { creates: ['src/added-by-codex.ts'], model: 'gpt-5.1-codex' });
      assert.ok(added.length >= 2);
      assert.deepEqual(added[0], pend.truth);
    }
    assert.equal(Object.keys(w.state.pending).length, 0);
    for (const f of pendingFiles) assert.ok(fs.readFileSync(f, 'utf8').endsWith('\n'));
    assertSameTotals(w);
    const claudeId = w.truth.sessions.find((s) => s.source === 'claude-code' && s.role === 'task')?.sessionId ?? '';
    const at = w.end + 3_600_000;
    const more = appendClaudeTurn(w, claudeId, { at, leaveHalfWritten: true });
    assert.ok(more.length > 0 && more.every((i) => i.timestamp >= at));
    assert.equal(Object.keys(w.state.pending).length, 1);
    assertSameTotals(w); // the new half line is not counted yet
    const done = appendClaudeTurn(w, claudeId, { steps: 0 });
    assert.equal(done.length, 2);
    assertSameTotals(w);
    assert.ok(w.truth.interactions.length > before);
    assert.ok(w.truth.sessions.some((s) => s.editedFiles.includes('src/added-live.ts')));
  });

  it('holds up across shapes (few/many sessions and repos, one day, no traps)', () => {
    const shapes: Omit<WorldOptions, 'root'>[] = [
      { seed: 21, repos: 1, claudeSessions: 2, codexSessions: 1, days: 1 },
      { seed: 22, repos: 2, claudeSessions: 1, codexSessions: 0, badLines: 3 },
      { seed: 23, repos: 5, claudeSessions: 30, codexSessions: 15, days: 30, halfWrittenTail: true },
      { seed: 24, repos: 7, claudeSessions: 3, codexSessions: 3 },
      { seed: 25, repos: 0, claudeSessions: 0, codexSessions: 4, halfWrittenTail: true },
      { seed: 26, traps: false, badLines: 5 },
    ];
    for (const o of shapes) {
      const w = build(o);
      assertSameTotals(w);
      for (const i of w.truth.interactions)
        assert.ok(i.timestamp >= w.start && i.timestamp <= w.end, JSON.stringify(o));
      for (const c of w.truth.commits) assert.ok(c.time <= w.end && c.sha.length === 40);
      assert.equal(
        w.truth.sessions.filter((s) => s.role !== 'extra').length,
        (o.claudeSessions ?? 12) + (o.codexSessions ?? 6),
      );
      if (o.traps === false) {
        const lines = allLines([...w.claudeRoots.flatMap((r) => walk(path.join(r, 'projects'))), ...walk(w.codexHome)]);
        assert.ok(!lines.some((l) => l.includes('<synthetic>') || l.includes('isApiErrorMessage')));
        assert.equal(walk(path.join(w.codexHome, 'archived_sessions')).length, 0);
        assert.ok(
          !w.claudeRoots.some((r) =>
            walk(path.join(r, 'projects')).some(
              (f) => f.includes('/subagents/') && readObjs(f).some((x) => x.isSidechain === false),
            ),
          ),
        );
      }
    }
  });

  it('writes canonical compact JSON on every complete line', () => {
    const w = build({ seed: 4, toolResultBytes: 5000 });
    let n = 0;
    for (const f of [...w.claudeRoots.flatMap((r) => walk(path.join(r, 'projects'))), ...walk(w.codexHome)]) {
      for (const l of fs.readFileSync(f, 'utf8').split('\n')) {
        if (l === '') continue;
        assert.equal(JSON.stringify(JSON.parse(l)), l);
        n++;
      }
    }
    assert.ok(n > 300);
  });

  it('builds a world without git (repos: 0)', () => {
    const w = build({ seed: 2, repos: 0, claudeSessions: 4, codexSessions: 3 });
    assert.deepEqual(w.repos, []);
    assert.deepEqual(w.truth.commits, []);
    assert.ok(w.truth.sessions.every((s) => s.repo === null && s.branch === null && !fs.existsSync(s.cwd)));
    assert.ok(w.truth.sessions.every((s) => s.cwd.startsWith(path.join(w.root, 'projects'))));
    assert.ok(!fs.existsSync(path.join(w.root, 'repos')));
    assertSameTotals(w);
  });

  it('builds a bench-sized world fast (targetBytes 50 MB, 30 KB tool results)', () => {
    const t0 = process.hrtime.bigint();
    const w = build({ seed: 9, repos: 0, targetBytes: 50e6, toolResultBytes: 30000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const mbps = w.bytes / 1e6 / (ms / 1000);
    console.log(
      `      world: ${(w.bytes / 1e6).toFixed(1)} MB in ${w.files} files, ${w.truth.interactions.length} interactions, ${ms.toFixed(0)} ms = ${mbps.toFixed(0)} MB/s`,
    );
    assert.ok(w.bytes >= 50e6 && w.bytes < 60e6);
    assert.ok(w.files > 100);
    assert.ok(ms < 30_000);
    assertSameTotals(w);
  });
});
