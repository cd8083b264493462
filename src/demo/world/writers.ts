/**
 * Writes one planned session: a Claude Code session (with its subagents, resumed copy, root copies) or a Codex
 * rollout (active, archived), in their real formats, and records its truth.
 */
import * as path from 'node:path';
import type { Rng, TextPool } from '../rng';
import type { TruthInteraction, TruthSession, TruthSource } from '../truth';
import {
  CLAUDE_HAIKU,
  CLAUDE_OLD_VERSION,
  CLAUDE_OPUS,
  CLAUDE_SONNET,
  CLAUDE_VERSIONS,
  type ClaudeAction,
  type ClaudeEdit,
  type ClaudeLive,
  ClaudeWriter,
  encodeProjectDir,
} from '../claude';
import {
  CODEX_MODELS,
  CODEX_VERSIONS,
  type CodexCall,
  type CodexLive,
  type CodexPatchFile,
  CodexWriter,
  rolloutRelPath,
  zeroOa,
} from '../codex';
import type { FileChange } from '../git';
import { FOLLOW_UPS, EXPLORE_PROMPTS, posixRel, uniqSorted } from './common';
import type { Builder, Generated, Project } from './builder';
import { injectBad } from './badLines';

/** Edits for a session: repo/worktree-relative paths, with whether they create the file. */
export function chooseEdits(
  r: Rng,
  proj: Project,
  sub: string | null,
  area: string | null,
  slug: string,
  allowCreate: boolean,
): FileChange[] {
  const pool = sub !== null ? proj.editable.filter((f) => f.startsWith(`${sub}/`)) : proj.editable;
  const preferred = area !== null ? pool.filter((f) => f.includes(area)) : [];
  const out: FileChange[] = [];
  const n = r.int(1, 3);
  for (let i = 0; i < n; i++) {
    const f =
      preferred.length > 0 && r.chance(0.6) ? r.pick(preferred) : r.pick(pool.length > 0 ? pool : proj.editable);
    if (!out.some((c) => c.rel === f)) out.push({ rel: f, create: false });
  }
  if (allowCreate && r.chance(0.45)) {
    proj.newFiles++;
    const rel =
      sub !== null ? `${sub}/src/${slug}-${proj.newFiles}.ts` : `src/${area ?? 'lib'}/${slug}-${proj.newFiles}.ts`;
    out.push({ rel, create: true });
  }
  return out;
}

/** Read targets (absolute) for a session. */
function readTargets(r: Rng, proj: Project, base: string): string[] {
  const files = [...proj.files.keys()];
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(path.join(base, r.pick(files)));
  return out;
}

function splitTurns<T>(r: Rng, items: T[], turns: number): T[][] {
  const out: T[][] = Array.from({ length: turns }, () => []);
  items.forEach((it, i) => {
    const k = i < turns ? i : r.int(0, turns - 1);
    out[Math.min(k, turns - 1)]?.push(it);
  });
  // Keep the original order within turns.
  return out;
}

function pickClaudeModel(r: Rng): string {
  const x = r.next();
  return x < 0.6 ? CLAUDE_SONNET : x < 0.85 ? CLAUDE_OPUS : CLAUDE_HAIKU;
}

function pickCodexModel(r: Rng): string {
  const x = r.next();
  return x < 0.5 ? CODEX_MODELS[0] : x < 0.8 ? CODEX_MODELS[1] : CODEX_MODELS[2];
}

function firstPrompt(
  r: Rng,
  pool: TextPool,
  title: string,
  key: string | null,
  explore: boolean,
  area: string,
): string {
  if (explore) return r.pick(EXPLORE_PROMPTS).replace('{area}', area);
  const tail = pool.words(r, r.int(8, 30));
  return key !== null && r.chance(0.6) ? `${title} (${key}). ${tail}` : `${title}. ${tail}`;
}

/** What either writer is told of a planned session. */
interface SessionSpec {
  r: Rng;
  id: string;
  start: number;
  deadline: number;
  /** Repository (or worktree) root the edits are relative to; `cwd` may be a folder below it. */
  base: string;
  cwd: string;
  repo: string | null;
  branch: string | null;
  role: TruthSession['role'];
  taskKey: string | null;
  title: string;
  area: string;
  edits: FileChange[];
  traps: Set<string>;
  turns: number;
  badLines: number;
  /** Tiny sessions (one short turn) make bench worlds hold many small files, as real histories do. */
  tiny?: boolean;
}

/** A written session's truth: what it edited (repo-relative), where it is logged, when it ended, its models. */
function sessionTruth(
  p: SessionSpec,
  source: TruthSource,
  edited: string[],
  logFiles: string[],
  end: number,
  out: readonly TruthInteraction[],
): TruthSession {
  return {
    source,
    sessionId: p.id,
    cwd: p.cwd,
    repo: p.repo,
    branch: p.branch,
    editedFiles: uniqSorted(edited),
    logFiles: uniqSorted(logFiles),
    start: p.start,
    end,
    models: uniqSorted(out.map((i) => i.model)),
    role: p.role,
    taskKey: p.taskKey,
    traps: [...p.traps].sort(),
  };
}

/** Generate, write and record one Claude Code session. */
export function genClaude(
  b: Builder,
  p: SessionSpec & { proj: Project; rootIdx: number; subagentChance: number; resumes: Generated | null },
): Generated {
  const { r, traps } = p;
  const old = traps.has('cost-usd');
  const version = old ? CLAUDE_OLD_VERSION : (p.resumes?.live?.version ?? r.pick(CLAUDE_VERSIONS));
  const model = p.resumes?.live?.model ?? pickClaudeModel(r);
  const enc = encodeProjectDir(p.cwd);
  const file = path.join(b.claudeRoots[p.rootIdx] ?? b.claudeRoots[0] ?? '', 'projects', enc, `${p.id}.jsonl`);
  const live: ClaudeLive = {
    sessionId: p.id,
    cwd: p.cwd,
    gitBranch: p.branch ?? '',
    version,
    model,
    lastUuid: p.resumes?.lastUuid ?? null,
    t: p.start,
    ctx: p.resumes?.live?.ctx ?? (r.chance(0.6) ? r.int(9000, 15000) : 0),
    pending: r.int(4000, 9000),
    oneHour: r.chance(0.3),
    oldVersion: old,
  };
  const w = new ClaudeWriter({
    rng: r.fork('claude'),
    pool: b.pool,
    toolResultBytes: b.trb,
    live,
    deadline: p.deadline,
    file,
  });
  if (p.resumes) {
    // A resumed session: a new file that first copies the earlier session's lines verbatim.
    w.summary(`${p.title}`, p.resumes.lastUuid ?? '');
    w.lines.push(...p.resumes.lines);
    b.trap('claude-resumed', file);
  }
  // Actions: edits, reads, shell.
  const reads = readTargets(r, p.proj, p.base);
  const actions: ClaudeAction[] = [];
  const editActions: ClaudeAction[] = [];
  for (const e of p.edits) {
    const abs = path.join(p.base, e.rel);
    const tool: ClaudeEdit['tool'] = e.rel.endsWith('.ipynb')
      ? 'NotebookEdit'
      : e.create
        ? 'Write'
        : r.chance(0.65)
          ? 'Edit'
          : 'MultiEdit';
    editActions.push({ kind: 'edit', edit: { tool, abs } });
    if (tool !== 'Write' && tool !== 'NotebookEdit' && r.chance(0.25))
      editActions.push({ kind: 'edit', edit: { tool: 'Edit', abs } });
  }
  const nReads = p.tiny === true ? r.int(0, 1) : r.int(1, 3) + editActions.length;
  for (let i = 0; i < nReads; i++) {
    const x = r.next();
    actions.push(
      x < 0.55
        ? { kind: 'read', abs: r.pick(reads) }
        : x < 0.8
          ? { kind: 'grep', abs: r.pick(reads) }
          : { kind: 'bash' },
    );
  }
  // Reads first, edits after (roughly how sessions go), spread over turns.
  const all = [
    ...actions.slice(0, Math.ceil(actions.length / 2)),
    ...editActions,
    ...actions.slice(Math.ceil(actions.length / 2)),
  ];
  const wantSub = traps.has('subagent') || r.chance(p.subagentChance);
  if (wantSub) {
    const subEdit = traps.has('subagent')
      ? editActions.find((a) => a.kind === 'edit' && a.edit.tool === 'Edit')
      : undefined;
    if (subEdit && subEdit.kind === 'edit') all.splice(all.indexOf(subEdit), 1);
    const sub: ClaudeAction = {
      kind: 'task',
      sub: {
        model: r.chance(0.5) ? CLAUDE_HAIKU : CLAUDE_SONNET,
        steps: r.int(2, 4),
        reads,
        ...(subEdit && subEdit.kind === 'edit' ? { edit: subEdit.edit } : {}),
        dual: traps.has('subagent'),
      },
    };
    all.splice(Math.min(1, all.length), 0, sub);
  }
  const turns = Math.max(1, p.turns, traps.has('model-switch') ? 2 : 1);
  const perTurn = splitTurns(r, all, turns);
  const switchTo = traps.has('model-switch') ? (model === CLAUDE_OPUS ? CLAUDE_SONNET : CLAUDE_OPUS) : null;
  for (let t = 0; t < turns; t++) {
    const acts = perTurn[t] ?? [];
    const steps: ClaudeAction[][] = [];
    for (let i = 0; i < acts.length; i++) {
      const a = acts[i];
      if (!a) continue;
      const b = acts[i + 1];
      if (a.kind === 'read' && b?.kind === 'read' && r.chance(0.3)) {
        steps.push([a, b]);
        i++;
      } else steps.push([a]);
    }
    const prompt =
      t === 0 ? firstPrompt(r, b.pool, p.title, p.taskKey, p.role === 'exploration', p.area) : r.pick(FOLLOW_UPS);
    const m = switchTo !== null && t >= 1 ? switchTo : model;
    w.live.model = m;
    w.turn({
      prompt,
      model: m,
      steps,
      ...(traps.has('no-request-id') && t === 0 ? { noRequestId: true } : {}),
      ...(traps.has('synthetic') && t === 0 ? { synthetic: 'nonzero' as const, apiError: true } : {}),
      ...(traps.has('synthetic') && t === turns - 1 && turns > 1 ? { synthetic: 'zero' as const } : {}),
    });
  }
  if (traps.has('synthetic')) {
    b.trap('claude-synthetic', file);
    b.trap('claude-api-error', file);
  }
  if (traps.has('no-request-id')) b.trap('claude-no-request-id', file);
  if (traps.has('cost-usd')) b.trap('claude-cost-usd', file);
  if (traps.has('model-switch')) b.trap('claude-model-switch', p.id);
  if (traps.has('second-root')) b.trap('claude-second-root', file);
  if (p.rootIdx === 1) b.trap('claude-in-second-root', file);
  if (traps.has('subagent')) b.trap('claude-sidechain-dual', file);
  for (const s of w.subagents) b.trap('claude-subagent', s.file);

  const clean = w.lines.slice();
  const withBad = injectBad(b, r.fork('bad'), 'claude-code', file, clean, p.badLines, p.start);
  b.sink.write(file, withBad);
  for (const s of w.subagents) b.sink.write(s.file, s.lines);
  const logFiles = [file, ...w.subagents.map((s) => s.file)];
  if (traps.has('root-copy')) {
    const other = path.join(b.claudeRoots[1] ?? '', 'projects', enc, `${p.id}.jsonl`);
    b.sink.copy(file, other);
    logFiles.push(other);
    b.trap('claude-root-copy', other);
  }
  if (p.resumes) p.resumes.truth.logFiles = uniqSorted([...p.resumes.truth.logFiles, file]);
  const relBase = p.repo ?? p.cwd;
  const truth = sessionTruth(
    p,
    'claude-code',
    w.edited.map((a) => posixRel(relBase, a)),
    logFiles,
    w.live.t,
    w.out,
  );
  b.interactions.push(...w.out);
  b.sessions.set(p.id, truth);
  b.state.claude[p.id] = { file, live: w.live, base: relBase };
  w.live.lastUuid = w.em.parent;
  // Keep the lines only where a later session resumes this one (otherwise they would pin every log in memory).
  const g: Generated = {
    truth,
    mainFile: file,
    lines: traps.has('resumed-source') ? clean : [],
    lastUuid: w.em.parent,
    live: w.live,
    creates: new Set(p.edits.filter((e) => e.create).map((e) => e.rel)),
  };
  b.generated.set(p.id, g);
  return g;
}

/** Generate, write and record one Codex session. */
export function genCodex(
  b: Builder,
  p: SessionSpec & { gitMeta: { commit_hash: string; branch: string; repository_url: string } | null },
): Generated {
  const { r, traps } = p;
  const noTc = traps.has('no-turn-context');
  const model = pickCodexModel(r);
  const live: CodexLive = {
    sessionId: p.id,
    cwd: p.cwd,
    model: null,
    turnContext: !noTc,
    effort: r.pick(['low', 'medium', 'medium', 'high']),
    total: zeroOa(),
    t: p.start,
    ctx: 0,
    pending: r.int(6000, 9000),
    primaryUsed: r.int(0, 40),
  };
  const w = new CodexWriter({ rng: r.fork('codex'), pool: b.pool, toolResultBytes: b.trb, live, deadline: p.deadline });
  w.meta(noTc ? '0.39.0' : r.pick(CODEX_VERSIONS), p.gitMeta);
  // Calls: patches for the edits (paths relative to cwd), shell calls around them.
  const patchCalls: CodexCall[] = [];
  const files: CodexPatchFile[] = p.edits.map((e) => ({
    rel: posixRel(p.cwd, path.join(p.base, e.rel)),
    add: e.create,
  }));
  let shellDone = false;
  for (let i = 0; i < files.length; ) {
    const take = traps.has('shell-apply-patch') ? (shellDone ? 2 : 1) : r.chance(0.3) ? 2 : 1;
    const chunk = files.slice(i, i + take);
    i += take;
    const viaShell = traps.has('shell-apply-patch') ? !shellDone : r.chance(0.15);
    if (viaShell) shellDone = true;
    patchCalls.push({ kind: 'patch', via: viaShell ? 'shell' : 'custom', files: chunk });
  }
  if (traps.has('shell-apply-patch')) b.trap('codex-shell-apply-patch', p.id);
  const turns = Math.max(p.turns, traps.has('reset') ? 3 : 1, traps.has('model-switch') ? 2 : 1);
  const perTurn = splitTurns(r, patchCalls, turns);
  const switchTo = traps.has('model-switch') ? (model === CODEX_MODELS[0] ? CODEX_MODELS[1] : CODEX_MODELS[0]) : null;
  for (let t = 0; t < turns; t++) {
    const calls: CodexCall[] = [];
    const nShell = traps.has('reset') && t < 2 ? r.int(3, 5) : p.tiny === true ? r.int(0, 1) : r.int(1, 3);
    for (let i = 0; i < nShell; i++) calls.push({ kind: 'shell' });
    calls.push(...(perTurn[t] ?? []));
    if (p.tiny !== true && r.chance(0.5)) calls.push({ kind: 'shell' });
    const prompt =
      t === 0 ? firstPrompt(r, b.pool, p.title, p.taskKey, p.role === 'exploration', p.area) : r.pick(FOLLOW_UPS);
    w.turn({
      prompt,
      calls,
      model: switchTo !== null && t >= 1 ? switchTo : model,
      nullInfo: t === 0 || r.chance(0.3),
      reemit: 0.2,
      ...(traps.has('force-reemit') && t === 0 ? { forceReemit: true } : {}),
      ...(traps.has('reset') && t === 2 ? { reset: true } : {}),
    });
  }
  if (noTc) b.trap('codex-no-turn-context', p.id);
  if (traps.has('reset')) b.trap('codex-reset', p.id);
  if (traps.has('model-switch')) b.trap('codex-model-switch', p.id);
  const rel = rolloutRelPath(p.start, p.id);
  const name = rel[rel.length - 1] ?? `${p.id}.jsonl`;
  const active = path.join(b.codexHome, 'sessions', ...rel);
  const archived = path.join(b.codexHome, 'archived_sessions', name);
  const clean = w.lines.slice();
  const logFiles: string[] = [];
  let file = active;
  if (traps.has('archived-only')) {
    file = archived;
    b.sink.write(archived, injectBad(b, r.fork('bad'), 'codex', archived, clean, p.badLines, p.start));
    logFiles.push(archived);
    b.trap('codex-archived-only', archived);
  } else {
    b.sink.write(active, injectBad(b, r.fork('bad'), 'codex', active, clean, p.badLines, p.start));
    logFiles.push(active);
    if (traps.has('archived-copy')) {
      b.sink.copy(active, archived);
      logFiles.push(archived);
      b.trap('codex-archived-copy', archived);
    }
  }
  const relBase = p.repo ?? p.cwd;
  const truth = sessionTruth(
    p,
    'codex',
    w.editedRel.map((f) => posixRel(relBase, path.resolve(p.cwd, f))),
    logFiles,
    w.live.t,
    w.out,
  );
  if (p.gitMeta) truth.gitCommit = p.gitMeta.commit_hash;
  b.interactions.push(...w.out);
  b.sessions.set(p.id, truth);
  b.state.codex[p.id] = { file, live: w.live, base: relBase };
  const g: Generated = {
    truth,
    mainFile: file,
    lines: [],
    lastUuid: null,
    live: null,
    creates: new Set(p.edits.filter((e) => e.create).map((e) => e.rel)),
  };
  b.generated.set(p.id, g);
  return g;
}
