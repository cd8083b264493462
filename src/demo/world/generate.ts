/**
 * Generates the planned sessions in time order, interleaved with the git history they produce; more sessions up
 * to a target size; half-written last lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TruthSource } from '../truth';
import { type ClaudeLive, ClaudeWriter } from '../claude';
import { type CodexLive, CodexWriter } from '../codex';
import { MIN, HOUR, TASK_TITLES, FAKE_SUBDIR, slugOf } from './common';
import type { PendingTail } from './types';
import type { Builder, Generated, Slot } from './builder';
import { chooseEdits, genClaude, genCodex } from './writers';

/** All planned sessions, in time order, interleaved with the git history they produce. */
export function generateBase(b: Builder): void {
  const sorted = [...b.slots].sort((a, b) => a.start - b.start || a.i - b.i);
  const byProject = new Map<number, Slot[]>();
  for (const s of sorted) {
    const l = byProject.get(s.project) ?? [];
    l.push(s);
    byProject.set(s.project, l);
  }
  for (const s of sorted) {
    const proj = b.projects[s.project];
    if (!proj) continue;
    const r = b.rng.fork(`slot:${s.i}`);
    const g = s.group;
    const base = g?.worktree ?? proj.dir;
    const sub = s.traps.has('subdir') ? FAKE_SUBDIR : null;
    const cwd = s.resumes ? (b.sessions.get(s.resumes.id)?.cwd ?? base) : sub !== null ? path.join(base, sub) : base;
    let branch: string | null = null;
    let sha: string | null = null;
    if (b.git && proj.repoIdx !== null) {
      b.git.flush(s.start);
      const st = b.git.state(base);
      branch = st?.branch ?? null;
      sha = st?.sha ?? null;
    }
    const repo = b.git && proj.repoIdx !== null ? base : null;
    const deadline = Math.min(s.start + 50 * MIN, b.end - 5 * MIN);
    const area = g?.area ?? r.pick(proj.areas);
    const title = g?.title ?? `Explore ${area}`;
    const slug = slugOf(title);
    const resumedSub = s.resumes !== null && (b.sessions.get(s.resumes.id)?.cwd ?? '') !== base;
    const editSub = resumedSub ? FAKE_SUBDIR : sub;
    const edits = s.role === 'task' ? chooseEdits(r, proj, editSub, area, slug, true) : [];
    if (s.traps.has('notebook')) edits.push({ rel: 'notebooks/analysis.ipynb', create: false });
    if (s.traps.has('shell-apply-patch')) {
      // Both apply_patch routes with both kinds of sections: Add File via shell, Update + Add via custom_tool_call.
      proj.newFiles += 2;
      const dirRel = editSub !== null ? `${editSub}/src` : `src/${area}`;
      edits.splice(0, edits.length, ...edits.filter((e) => !e.create).slice(0, 1));
      if (edits.length === 0)
        edits.push({ rel: editSub !== null ? `${editSub}/src/util.ts` : `src/${area}.ts`, create: false });
      edits.unshift({ rel: `${dirRel}/${slug}-${proj.newFiles - 1}.ts`, create: true });
      edits.push({ rel: `${dirRel}/${slug}-${proj.newFiles}.ts`, create: true });
    }
    if (s.traps.has('subdir')) b.trap(`${s.source}-subdir`, s.id);
    if (g?.worktree) b.trap(`${s.source}-worktree`, s.id);
    // What both writers take; `turns` is drawn here, where each writer's call drew it.
    const spec = {
      r,
      id: s.id,
      start: s.start,
      deadline,
      cwd,
      base,
      repo,
      branch,
      role: s.role,
      taskKey: g?.key ?? null,
      title,
      area,
      edits,
      traps: s.traps,
      turns: r.int(1, 4),
      badLines: s.badLines,
    };
    let gen: Generated;
    if (s.source === 'claude-code') {
      gen = genClaude(b, {
        ...spec,
        proj,
        rootIdx: s.rootIdx,
        subagentChance: 0.1,
        resumes: s.resumes ? (b.generated.get(s.resumes.id) ?? null) : null,
      });
    } else {
      const gitMeta =
        repo !== null && sha !== null && branch !== null && proj.repoIdx !== null
          ? { commit_hash: sha, branch, repository_url: b.git?.repoUrl(proj.repoIdx) ?? '' }
          : null;
      gen = genCodex(b, { ...spec, gitMeta });
    }
    // Commit right after the session; merge after the group's last session.
    if (b.git && g && proj.repoIdx !== null && gen.truth.editedFiles.length > 0) {
      const t = Math.min(gen.truth.end + r.int(2, 8) * MIN, b.end - MIN);
      const claude = s.source === 'claude-code';
      const subject = r.chance(0.7) ? `${g.key}: ${g.title.charAt(0).toLowerCase()}${g.title.slice(1)}` : g.title;
      let body = b.pool.words(r, r.int(8, 25));
      if (claude && r.chance(0.6)) {
        body += `\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n\n${r.chance(0.5) ? 'Co-Authored-By' : 'Co-authored-by'}: Claude <noreply@anthropic.com>`;
      }
      const changes = gen.truth.editedFiles.map((rel) => ({ rel, create: gen.creates.has(rel) }));
      b.git.schedule({
        kind: 'commit',
        t,
        repo: proj.repoIdx,
        dir: base,
        branch: branch ?? g.branch,
        changes,
        subject,
        body,
        sessionIds: [s.id],
      });
      g.lastCommitT = Math.max(g.lastCommitT, t);
    }
    const lastOfGroup = g
      ? g.slots.every((o) => o === s || o.start < s.start || (o.start === s.start && o.i < s.i))
      : false;
    if (b.git && g && lastOfGroup && !g.open && g.lastCommitT > 0 && proj.repoIdx !== null) {
      const list = byProject.get(s.project) ?? [];
      const next = list.find((o) => o.start > s.start);
      let t = g.lastCommitT + r.int(15, 90) * MIN;
      if (next) t = Math.min(t, next.start - 20 * MIN);
      t = Math.max(t, g.lastCommitT + MIN);
      if (t <= b.end - MIN) {
        b.git.schedule({
          kind: 'merge',
          t,
          repo: proj.repoIdx,
          branch: g.branch,
          squash: g.squash,
          pr: g.pr,
          title: g.title,
        });
        if (g.squash) b.trap('git-squash-merge', g.branch);
      }
    }
    if (g?.open) b.trap('git-open-branch', g.branch);
  }
  b.git?.flush(b.end);
}

/** Sessions beyond the counts until the logs reach targetBytes (no git work for these). */
export function generateExtra(b: Builder, target: number): void {
  const nClaude = Math.max(0, Math.floor(b.opts.claudeSessions ?? 12));
  const nCodex = Math.max(0, Math.floor(b.opts.codexSessions ?? 6));
  const pCodex = nClaude + nCodex > 0 ? Math.max(0.15, nCodex / (nClaude + nCodex)) : 0.3;
  let k = 0;
  while (b.sink.bytes < target) {
    const r = b.rng.fork(`extra:${k}`);
    k++;
    const proj = b.projects[r.int(0, b.projects.length - 1)];
    if (!proj) break;
    const source: TruthSource =
      nCodex === 0 && nClaude > 0
        ? 'claude-code'
        : nClaude === 0 && nCodex > 0
          ? 'codex'
          : r.chance(pCodex)
            ? 'codex'
            : 'claude-code';
    const span = Math.max(MIN, b.end - b.ws - 3 * HOUR);
    const start = Math.floor(b.ws + 10 * MIN + r.next() * span);
    const deadline = Math.min(start + 2 * HOUR, b.end - 5 * MIN);
    const sub = r.chance(0.1) ? FAKE_SUBDIR : null;
    const base = proj.dir;
    const cwd = sub !== null ? path.join(base, sub) : base;
    const st = b.git && proj.repoIdx !== null ? b.git.at(base, start) : null;
    const repo = b.git && proj.repoIdx !== null ? base : null;
    const area = r.pick(proj.areas);
    const x = r.next();
    const tiny = x < 0.35;
    const edits = !tiny && r.chance(0.5) ? chooseEdits(r, proj, sub, area, 'scratch', false) : [];
    const turns = x < 0.75 ? 1 : x < 0.95 ? r.int(2, 3) : r.int(4, 8);
    const id = source === 'claude-code' ? r.uuid4() : r.uuid7(start);
    const title = `${r.pick(TASK_TITLES).replace('{area}', area)}`;
    const spec = {
      r,
      id,
      start,
      deadline,
      cwd,
      base,
      repo,
      branch: st?.branch ?? null,
      role: 'extra' as const,
      taskKey: null,
      title,
      area,
      edits,
      traps: new Set<string>(),
      turns,
      badLines: 0,
      tiny,
    };
    if (source === 'claude-code') {
      genClaude(b, { ...spec, proj, rootIdx: r.chance(0.4) ? 1 : 0, subagentChance: tiny ? 0 : 0.3, resumes: null });
    } else {
      const gitMeta =
        st && repo !== null && proj.repoIdx !== null
          ? { commit_hash: st.sha, branch: st.branch, repository_url: b.git?.repoUrl(proj.repoIdx) ?? '' }
          : null;
      genCodex(b, { ...spec, gitMeta });
    }
  }
}

/** Half-written last lines: one Claude file, one Codex file (not in the truth until completed by an append). */
export function halfWritten(b: Builder): void {
  const pick = (src: TruthSource): Slot | undefined =>
    b.slots.find((s) => s.source === src && s.traps.has('half-written'));
  const c = pick('claude-code');
  const cs = c ? b.state.claude[c.id] : undefined;
  if (c && cs) {
    const live: ClaudeLive = { ...cs.live };
    const w = new ClaudeWriter({
      rng: b.rng.fork('half:claude'),
      pool: b.pool,
      toolResultBytes: b.trb,
      live,
      file: cs.file,
      deadline: b.end,
    });
    const { line, truth } = w.finalLine(live.model);
    live.lastUuid = w.em.parent;
    writeHalf(b, cs.file, line, { source: 'claude-code', sessionId: c.id, rest: '', truth, claude: live });
  }
  const x = pick('codex');
  const xs = x ? b.state.codex[x.id] : undefined;
  if (x && xs) {
    const live: CodexLive = { ...xs.live, total: { ...xs.live.total } };
    const w = new CodexWriter({
      rng: b.rng.fork('half:codex'),
      pool: b.pool,
      toolResultBytes: b.trb,
      live,
      deadline: b.end,
    });
    const { line, truth } = w.pendingTokenCount();
    writeHalf(b, xs.file, line, { source: 'codex', sessionId: x.id, rest: '', truth, codex: live });
  }
}

function writeHalf(b: Builder, file: string, line: string, pend: PendingTail): void {
  const cut = Math.floor(line.length * 0.55);
  const head = line.slice(0, cut);
  pend.rest = line.slice(cut);
  fs.appendFileSync(file, head);
  b.sink.bytes += Buffer.byteLength(head);
  b.state.pending[file] = pend;
  b.trap(`${pend.source}-half-written`, file);
}
