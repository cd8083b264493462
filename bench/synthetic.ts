/**
 * A large synthetic history for the link benchmark, with the truth of which session produced which commit.
 *
 * One repository built with `git fast-import` (seconds for 10,000 commits, where `git commit` would take minutes)
 * and sessions written straight into a ledger. The history mixes what linking must tell apart: task branches merged
 * by PR, squash-merged (originals left unreachable) and rebased before merging; two tools on one task with one
 * commit; sequential sessions on one branch; sessions on the trunk; explorations that edit nothing; abandoned edits
 * never committed; and a teammate committing to the same files all along.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InteractionRecord, EditRecord, SourceName } from '../src/core/usage/model';
import { Rng } from '../src/demo/rng';
import type { Ledger } from '../src/store/ledger';
import { RecordWriter } from '../src/store/records';
import { setMeta } from '../src/store/schema';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const ME = { name: 'Alex Kim', email: 'alex.kim@example.com' };
const TEAMMATE = { name: 'Sam Lee', email: 'sam.lee@example.com' };

export interface SyntheticOptions {
  dir: string;
  seed: number;
  sessions: number;
  commits: number;
  days: number;
  files: number;
  end: number;
}

export interface SyntheticSession {
  id: string;
  source: SourceName;
  start: number;
  end: number;
  branch: string;
  files: string[];
  kind: 'task' | 'pair' | 'sequential' | 'trunk' | 'explore' | 'abandoned';
  /** Codex: the mark of the branch tip when the session started. */
  headMark?: number;
}

export interface SyntheticWorld {
  repo: string;
  sessions: SyntheticSession[];
  /** "sessionId sha" for every (session, commit) a session produced and that is reachable. */
  truth: Set<string>;
  commits: number;
  buildMs: number;
  /** fast-import mark → sha (Codex sessions record a branch tip as a mark). */
  shaOf: Map<number, string>;
}

type Author = typeof ME;

interface Branch {
  name: string;
  tip: number;
  /** path → blob mark of the file's content on this branch. */
  files: Map<string, number>;
  own: number[];
  ownFiles: Set<string>;
}

interface Ev {
  t: number;
  seq: number;
  run: () => void;
}

/** Builds the repository and returns the sessions and truth (sessions are written into a ledger separately). */
export function buildSynthetic(o: SyntheticOptions): SyntheticWorld {
  const t0 = Date.now();
  const r = new Rng(o.seed);
  const repo = path.join(o.dir, 'repo');
  fs.mkdirSync(repo, { recursive: true });
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: o.dir, LC_ALL: 'C' };
  spawnSync('git', ['init', '-q', '-b', 'main', repo], { env });
  spawnSync('git', ['-C', repo, 'config', 'user.email', ME.email], { env });
  spawnSync('git', ['-C', repo, 'config', 'user.name', ME.name], { env });

  const chunks: string[] = [];
  let mark = 0;
  let commits = 0;
  const contents = new Map<number, string>();
  const blob = (content: string): number => {
    mark++;
    chunks.push(`blob\nmark :${mark}\ndata ${Buffer.byteLength(content)}\n${content}\n`);
    contents.set(mark, content);
    return mark;
  };
  const sessionsOf = new Map<number, string[]>();
  const emitCommit = (
    ref: string,
    c: {
      author: Author;
      at: number;
      committedAt?: number;
      message: string;
      from?: number;
      merge?: number;
      changes: Map<string, number>;
    },
  ): number => {
    mark++;
    commits++;
    const when = (ms: number): string => `${Math.floor(ms / 1000)} +0000`;
    const lines = [
      `commit ${ref}`,
      `mark :${mark}`,
      `author ${c.author.name} <${c.author.email}> ${when(c.at)}`,
      `committer ${c.author.name} <${c.author.email}> ${when(c.committedAt ?? c.at)}`,
      `data ${Buffer.byteLength(c.message)}`,
      c.message,
    ];
    if (c.from !== undefined) lines.push(`from :${c.from}`);
    if (c.merge !== undefined) lines.push(`merge :${c.merge}`);
    for (const [p, b] of c.changes) lines.push(`M 100644 :${b} ${p}`);
    chunks.push(`${lines.join('\n')}\n\n`);
    return mark;
  };

  // Files in modules: sessions of one task stay within a module, as real work does.
  const modules = Array.from({ length: Math.max(1, Math.floor(o.files / 12)) }, (_, i) => `mod${i}`);
  const allFiles: string[] = [];
  for (const m of modules)
    for (let j = 0; j < 12; j++) allFiles.push(`src/${m}/${j % 3 === 2 ? `${m}-${j}.test.ts` : `${m}-${j}.ts`}`);
  const start = o.end - o.days * DAY;
  const change = (files: Map<string, number>, p: string, rr: Rng): number => {
    const prev = files.get(p);
    const old = prev !== undefined ? (contents.get(prev) ?? '') : '';
    let lines = old ? old.split('\n').filter(Boolean) : [];
    // Mostly additions; sometimes a rewrite drops old lines (so not every added line survives to HEAD).
    if (lines.length > 40 && rr.chance(0.15)) lines = lines.slice(Math.floor(lines.length * 0.3));
    const n = rr.int(2, 9);
    for (let i = 0; i < n; i++) lines.push(`${p.slice(4)} ${mark} ${i} ${rr.base62(6)}`);
    return blob(`${lines.join('\n')}\n`);
  };

  const main: Branch = { name: 'main', tip: 0, files: new Map(), own: [], ownFiles: new Set() };
  {
    const init = new Map<string, number>();
    for (const p of allFiles) init.set(p, change(main.files, p, r));
    main.files = init;
    main.tip = emitCommit('refs/heads/main', {
      author: ME,
      at: start - DAY,
      message: 'Initial import\n',
      changes: init,
    });
  }

  const queue: Ev[] = [];
  let seq = 0;
  const at = (t: number, run: () => void): void => {
    queue.push({ t, seq: seq++, run });
  };
  const sessions: SyntheticSession[] = [];
  const truthMarks: Array<{ session: string; mark: number }> = [];
  const branches = new Map<string, Branch>();
  let keyN = 1;
  let pr = 100;
  let scratch = 0;

  const newBranch = (name: string): Branch => {
    const b: Branch = { name, tip: main.tip, files: new Map(main.files), own: [], ownFiles: new Set() };
    branches.set(name, b);
    return b;
  };
  const commitOn = (
    b: Branch,
    author: Author,
    t: number,
    files: readonly string[],
    message: string,
    rr: Rng,
    sessionIds: string[],
  ): number => {
    const changes = new Map<string, number>();
    for (const p of files) {
      const m = change(b.files, p, rr);
      b.files.set(p, m);
      changes.set(p, m);
    }
    const ref = b.name === 'main' ? 'refs/heads/main' : `refs/heads/${b.name}`;
    b.tip = emitCommit(ref, { author, at: t, message, from: b.tip, changes });
    b.own.push(b.tip);
    for (const p of files) b.ownFiles.add(p);
    for (const s of sessionIds) truthMarks.push({ session: s, mark: b.tip });
    sessionsOf.set(b.tip, sessionIds);
    return b.tip;
  };
  /** Lands a branch on main: a PR merge commit, a squash (originals unreachable), or a rebase then merge. */
  const land = (b: Branch, t: number, mode: 'merge' | 'squash' | 'rebase'): void => {
    if (b.own.length === 0) return;
    const n = pr++;
    if (mode === 'squash') {
      const changes = new Map<string, number>();
      for (const p of b.ownFiles) changes.set(p, b.files.get(p) as number);
      for (const [p, m] of changes) main.files.set(p, m);
      const key = b.name.split('/')[1] ?? b.name;
      main.tip = emitCommit('refs/heads/main', {
        author: ME,
        at: t,
        message: `${key} work (#${n})\n`,
        from: main.tip,
        changes,
      });
      // The squash holds every session's work of the branch; the branch itself goes away.
      const ids = new Set(b.own.flatMap((c) => sessionsOf.get(c) ?? []));
      for (const s of ids) truthMarks.push({ session: s, mark: main.tip });
      for (const c of b.own) removeTruth(c);
      moveToScratch(b);
      return;
    }
    if (mode === 'rebase') {
      // Replay the branch's commits on the current main: same author time, new committer time and parents.
      const rebased: Branch = { name: b.name, tip: main.tip, files: new Map(main.files), own: [], ownFiles: new Set() };
      for (const c of b.own) {
        const ids = sessionsOf.get(c) ?? [];
        const meta = commitMeta.get(c);
        if (!meta) continue;
        const changes = new Map<string, number>();
        for (const p of meta.files) {
          const m = b.files.get(p) as number;
          rebased.files.set(p, m);
          changes.set(p, m);
        }
        rebased.tip = emitCommit(`refs/heads/${b.name}`, {
          author: ME,
          at: meta.at,
          committedAt: t - MIN,
          message: meta.message,
          from: rebased.tip,
          changes,
        });
        rebased.own.push(rebased.tip);
        for (const p of meta.files) rebased.ownFiles.add(p);
        sessionsOf.set(rebased.tip, ids);
        for (const s of ids) truthMarks.push({ session: s, mark: rebased.tip });
        removeTruth(c);
      }
      moveToScratch(b, rebased.tip);
      b.tip = rebased.tip;
      b.own = rebased.own;
      b.files = rebased.files;
    }
    const changes = new Map<string, number>();
    for (const p of b.ownFiles) changes.set(p, b.files.get(p) as number);
    for (const [p, m] of changes) main.files.set(p, m);
    main.tip = emitCommit('refs/heads/main', {
      author: ME,
      at: t,
      message: `Merge pull request #${n} from acme/${b.name}\n\n${b.name}\n`,
      from: main.tip,
      merge: b.tip,
      changes,
    });
    branches.delete(b.name);
    // Deleting a merged branch ref: fast-import cannot delete, so the ref is left and deleted after the import.
    mergedRefs.push(b.name);
  };
  const mergedRefs: string[] = [];
  const scratchRefs: string[] = [];
  const commitMeta = new Map<number, { at: number; message: string; files: string[] }>();
  const removeTruth = (m: number): void => {
    for (let i = truthMarks.length - 1; i >= 0; i--) if (truthMarks[i]?.mark === m) truthMarks.splice(i, 1);
  };
  const moveToScratch = (b: Branch, replacement?: number): void => {
    // The original commits stay in the object store, reachable from no branch (as after a squash or a rebase).
    const ref = `refs/scratch/s${scratch++}`;
    chunks.push(`reset ${ref}\nfrom :${b.own[b.own.length - 1]}\n\n`);
    scratchRefs.push(ref);
    if (replacement !== undefined) chunks.push(`reset refs/heads/${b.name}\nfrom :${replacement}\n\n`);
    else {
      branches.delete(b.name);
      mergedRefs.push(b.name);
    }
  };

  // Plan sessions over the span; git events are queued by time and emitted in order.
  const spacing = (o.days * DAY) / o.sessions;
  const sources: SourceName[] = ['claude-code', 'codex'];
  const modFiles = (m: string): string[] => allFiles.filter((f) => f.startsWith(`src/${m}/`));
  const pickFiles = (rr: Rng, m: string, n: number): string[] => {
    const pool = modFiles(m);
    const out = new Set<string>();
    while (out.size < Math.min(n, pool.length)) out.add(rr.pick(pool));
    return [...out].sort();
  };
  const message = (key: string | null, subject: string, source: SourceName, rr: Rng): string => {
    let m = key && rr.chance(0.7) ? `${key}: ${subject}\n` : `${subject}\n`;
    if (source === 'claude-code' && rr.chance(0.5))
      m += '\nGenerated with Claude Code\n\nCo-Authored-By: Claude <noreply@anthropic.com>\n';
    return m;
  };
  let sessionsPlanned = 0;
  let i = 0;
  const newSession = (rr: Rng, s: Omit<SyntheticSession, 'id'>): SyntheticSession => {
    const full: SyntheticSession = {
      ...s,
      id: s.source === 'codex' ? `019a${rr.hex(4)}-${rr.hex(4)}-7${rr.hex(3)}-8${rr.hex(3)}-${rr.hex(12)}` : rr.uuid4(),
    };
    sessions.push(full);
    sessionsPlanned++;
    return full;
  };
  const headAt = (s: SyntheticSession, b: () => Branch | undefined): void => {
    // Codex records the branch tip when the session starts.
    if (s.source !== 'codex') return;
    at(s.start, () => {
      const br = b();
      if (br) s.headMark = br.tip;
    });
  };
  while (sessionsPlanned < o.sessions) {
    const rr = r.fork(`s${i}`);
    const t = start + i * spacing + rr.next() * spacing * 0.5;
    i++;
    const x = rr.next();
    const m = rr.pick(modules);
    const source = rr.pick(sources);
    const dur = rr.int(5, 70) * MIN;
    if (x < 0.45) {
      const key = `PAY-${keyN++}`;
      const name = `feature/${key}`;
      const s = newSession(rr, {
        source,
        start: t,
        end: t + dur,
        branch: name,
        files: pickFiles(rr, m, rr.int(1, 4)),
        kind: 'task',
      });
      let b: Branch | undefined;
      at(t - 3 * MIN, () => {
        b = newBranch(name);
      });
      headAt(s, () => b);
      const extra = rr.chance(0.15) ? [rr.pick(modFiles(m))] : [];
      const ct = s.end + rr.int(2, 20) * MIN;
      const files = [...new Set([...s.files, ...extra])].sort();
      const msg = message(key, `work on ${m}`, source, rr);
      at(ct, () => {
        if (!b) return;
        const c = commitOn(b, ME, ct, files, msg, rr, [s.id]);
        commitMeta.set(c, { at: ct, message: msg, files });
      });
      const y = rr.next();
      const lt = ct + rr.int(10, 300) * MIN;
      if (y < 0.62) at(lt, () => b && land(b, lt, 'merge'));
      else if (y < 0.82) at(lt, () => b && land(b, lt, 'squash'));
      else if (y < 0.94) at(lt, () => b && land(b, lt, 'rebase'));
    } else if (x < 0.55) {
      // Two tools at once on one task, one commit with both sessions' files.
      const key = `PAY-${keyN++}`;
      const name = `feature/${key}`;
      const files = pickFiles(rr, m, rr.int(2, 5));
      const half = Math.ceil(files.length / 2);
      const a = newSession(rr, {
        source: 'claude-code',
        start: t,
        end: t + dur,
        branch: name,
        files: files.slice(0, half),
        kind: 'pair',
      });
      const c = newSession(rr, {
        source: 'codex',
        start: t + 5 * MIN,
        end: t + dur + rr.int(1, 15) * MIN,
        branch: name,
        files: files.slice(half),
        kind: 'pair',
      });
      let b: Branch | undefined;
      at(t - 3 * MIN, () => {
        b = newBranch(name);
      });
      headAt(c, () => b);
      const ct = Math.max(a.end, c.end) + rr.int(2, 15) * MIN;
      at(ct, () => b && commitOn(b, ME, ct, files, message(key, `pair on ${m}`, 'codex', rr), rr, [a.id, c.id]));
      const lt = ct + rr.int(10, 300) * MIN;
      at(lt, () => b && land(b, lt, 'merge'));
    } else if (x < 0.6) {
      // Two sessions one after the other on one branch, a commit after each.
      const key = `PAY-${keyN++}`;
      const name = `feature/${key}`;
      const s1 = newSession(rr, {
        source,
        start: t,
        end: t + dur,
        branch: name,
        files: pickFiles(rr, m, rr.int(1, 3)),
        kind: 'sequential',
      });
      const t2 = s1.end + rr.int(40, 180) * MIN;
      const s2 = newSession(rr, {
        source: rr.pick(sources),
        start: t2,
        end: t2 + rr.int(5, 40) * MIN,
        branch: name,
        files: pickFiles(rr, m, rr.int(1, 3)),
        kind: 'sequential',
      });
      let b: Branch | undefined;
      at(t - 3 * MIN, () => {
        b = newBranch(name);
      });
      headAt(s1, () => b);
      headAt(s2, () => b);
      const c1 = s1.end + rr.int(2, 15) * MIN;
      at(c1, () => b && commitOn(b, ME, c1, s1.files, message(key, `start ${m}`, s1.source, rr), rr, [s1.id]));
      const c2 = s2.end + rr.int(2, 15) * MIN;
      at(c2, () => b && commitOn(b, ME, c2, s2.files, message(key, `finish ${m}`, s2.source, rr), rr, [s2.id]));
      const lt = c2 + rr.int(10, 200) * MIN;
      at(lt, () => b && land(b, lt, 'merge'));
    } else if (x < 0.72) {
      const s = newSession(rr, {
        source,
        start: t,
        end: t + dur,
        branch: 'main',
        files: pickFiles(rr, m, rr.int(1, 3)),
        kind: 'trunk',
      });
      headAt(s, () => main);
      const ct = s.end + rr.int(2, 25) * MIN;
      at(ct, () => commitOn(main, ME, ct, s.files, message(null, `Tidy ${m}`, source, rr), rr, [s.id]));
    } else if (x < 0.86) {
      const s = newSession(rr, { source, start: t, end: t + dur, branch: 'main', files: [], kind: 'explore' });
      headAt(s, () => main);
    } else {
      // Edits never committed (the attempt was thrown away).
      const s = newSession(rr, {
        source,
        start: t,
        end: t + dur,
        branch: rr.chance(0.5) ? 'main' : `spike/${m}-${i}`,
        files: pickFiles(rr, m, rr.int(1, 3)),
        kind: 'abandoned',
      });
      headAt(s, () => main);
    }
  }
  // The teammate and the engineer's own manual commits fill the history up to the wanted size, on the trunk.
  // Sessions make about 1.2 commits each (their own, merges, squashes, rebased copies; some left unreachable); the
  // rest is filler, so that about `commits` are reachable.
  const spare = Math.max(0, o.commits - Math.round(sessionsPlanned * 1.06));
  const busy = sessions.map((s) => [s.start, s.end] as const).sort((a, b) => a[0] - b[0]);
  /** The engineer's own commits by hand happen away from any session (product.md: such commits are never claimed). */
  const farFromSessions = (t: number): boolean => {
    let lo = 0;
    let hi = busy.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((busy[mid] as readonly [number, number])[0] < t - 2 * DAY) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo; j < busy.length && (busy[j] as readonly [number, number])[0] < t + 2 * 60 * MIN; j++) {
      const [a, b] = busy[j] as readonly [number, number];
      if (t > a - 2 * 60 * MIN && t < b + 2 * 60 * MIN) return false;
    }
    return true;
  };
  for (let k = 0; k < spare; k++) {
    const rr = r.fork(`tm${k}`);
    const t = start + rr.next() * o.days * DAY;
    const files = [rr.pick(allFiles), ...(rr.chance(0.4) ? [rr.pick(allFiles)] : [])];
    const who = rr.chance(0.2) && farFromSessions(t) ? ME : TEAMMATE;
    at(t, () =>
      commitOn(
        main,
        who,
        t,
        [...new Set(files)].sort(),
        `${who === ME ? 'Manual' : 'Teammate'} change to ${files[0]}\n`,
        rr,
        [],
      ),
    );
  }
  queue.sort((a, b) => a.t - b.t || a.seq - b.seq);
  for (const e of queue) e.run();

  const stream = path.join(o.dir, 'history.fi');
  fs.writeFileSync(stream, chunks.join(''));
  const marksFile = path.join(o.dir, 'marks');
  const fi = spawnSync('git', ['-C', repo, 'fast-import', '--quiet', `--export-marks=${marksFile}`], {
    env,
    input: fs.readFileSync(stream),
    maxBuffer: 1 << 26,
  });
  if (fi.status !== 0) throw new Error(`fast-import failed: ${fi.stderr.toString()}`);
  fs.rmSync(stream);
  // Merged branches are deleted, as after a PR merge; their names live on in the merge subjects.
  const del = mergedRefs.filter((n) => !branches.has(n)).map((n) => `delete refs/heads/${n}`);
  if (del.length > 0) spawnSync('git', ['-C', repo, 'update-ref', '--stdin'], { env, input: `${del.join('\n')}\n` });
  const shaOf = new Map<number, string>();
  for (const line of fs.readFileSync(marksFile, 'utf8').split('\n')) {
    const [m, sha] = line.split(' ');
    if (m && sha) shaOf.set(Number(m.slice(1)), sha);
  }
  const truth = new Set<string>();
  for (const t of truthMarks) {
    const sha = shaOf.get(t.mark);
    if (sha) truth.add(`${t.session} ${sha}`);
  }
  return { repo, sessions, truth, commits, buildMs: Date.now() - t0, shaOf };
}

/** Writes the sessions into a ledger as an import would: interactions, edited files, branch, Codex rollouts. */
export async function writeSessions(
  ledger: Ledger,
  world: SyntheticWorld,
  dir: string,
  list: readonly SyntheticSession[] = world.sessions,
): Promise<void> {
  const shaOf = world.shaOf;
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  await ledger.write((db) => {
    const w = new RecordWriter(db, { repoOf: () => world.repo });
    const r = new Rng(7 + list.length);
    for (const s of list) {
      let logPath = path.join(logs, `${s.id}.jsonl`);
      if (s.source === 'codex') {
        const head = s.headMark !== undefined ? shaOf.get(s.headMark) : undefined;
        const meta = {
          timestamp: new Date(s.start).toISOString(),
          type: 'session_meta',
          payload: { id: s.id, cwd: world.repo, git: head ? { commit_hash: head, branch: s.branch } : undefined },
        };
        fs.writeFileSync(logPath, `${JSON.stringify(meta)}\n`);
      } else logPath = path.join(logs, 'claude', `${s.id}.jsonl`);
      const session = { source: s.source, sessionId: s.id, cwd: world.repo, branch: s.branch };
      const n = s.kind === 'explore' ? r.int(2, 40) : r.int(3, 12);
      for (let k = 0; k < n; k++) {
        const ts = Math.round(s.start + ((s.end - s.start) * k) / Math.max(1, n - 1));
        const rec: InteractionRecord = {
          kind: 'interaction',
          key: `${s.id}:${k}`,
          session,
          timestamp: ts,
          model: s.source === 'codex' ? 'gpt-5-codex' : 'claude-sonnet-4-5-20250929',
          tokens: {
            input: r.int(10, 2000),
            output: r.int(100, 3000),
            cacheRead: r.int(5000, 60000),
            cacheWrite: r.int(0, 8000),
            reasoning: 0,
          },
          cacheWrite1h: 0,
          sidechain: false,
        };
        w.add(rec, logPath);
      }
      for (const f of s.files) {
        const edit: EditRecord = { kind: 'edit', session, timestamp: s.end, path: path.join(world.repo, f) };
        w.add(edit, logPath);
      }
    }
    w.free();
    setMeta(db, 'last_new_data', new Date().toISOString());
  });
}

/** One more commit on main, made with `git fast-import` on top of the current tip. Returns its sha. */
export function addCommit(world: SyntheticWorld, file: string, at: number, message: string): string {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
  const old = spawnSync('git', ['-C', world.repo, 'show', `refs/heads/main:${file}`], { env, encoding: 'utf8' }).stdout;
  // A typical edit: one existing line changed, a few added (so the durability of earlier commits is re-checked).
  const lines = old.split('\n').filter(Boolean);
  if (lines.length > 0) lines[lines.length - 1] = `${lines[lines.length - 1] as string} (edited ${at})`;
  const content = `${[...lines, ...Array.from({ length: 5 }, (_, i) => `${file.slice(4)} new ${at} ${i}`)].join('\n')}\n`;
  const when = `${Math.floor(at / 1000)} +0000`;
  const stream = [
    'commit refs/heads/main',
    `author ${ME.name} <${ME.email}> ${when}`,
    `committer ${ME.name} <${ME.email}> ${when}`,
    `data ${Buffer.byteLength(message)}`,
    message,
    'from refs/heads/main^0',
    `M 100644 inline ${file}`,
    `data ${Buffer.byteLength(content)}`,
    content,
    '',
  ].join('\n');
  const fi = spawnSync('git', ['-C', world.repo, 'fast-import', '--quiet'], { env, input: stream });
  if (fi.status !== 0) throw new Error(`fast-import failed: ${fi.stderr.toString()}`);
  return spawnSync('git', ['-C', world.repo, 'rev-parse', 'refs/heads/main'], { env, encoding: 'utf8' }).stdout.trim();
}
