/**
 * Plans a world before anything is written: one slot a session (project, start, source, role, task group, traps,
 * Claude root, bad lines), which task is in a worktree, left open or squash-merged, and the git branches and
 * human-only commits scheduled around the sessions. One random stream ('plan'), drawn from in this order.
 */
import * as path from 'node:path';
import type { Rng } from '../rng';
import type { TruthSource } from '../truth';
import { ENGINEER, TEAMMATE } from '../git';
import { HOUR, MIN, TASK_TITLES, slugOf } from './common';
import { HUMAN_FILES, type Builder, type Group, type Slot } from './builder';

type TrapRule = { name: string; ok: (s: Slot) => boolean };

/** The plan, in its steps; each draws from the same stream `r`, in this order. */
export function planWorld(b: Builder): void {
  const r = b.rng.fork('plan');
  const nClaude = Math.max(0, Math.floor(b.opts.claudeSessions ?? 12));
  const nCodex = Math.max(0, Math.floor(b.opts.codexSessions ?? 6));
  // 1. Slots, spread over the projects, and their times.
  const perProject = planSlots(b, r, nClaude + nCodex);
  // 2. Roles and task groups (the first project's first group is the resumed pair's).
  const resumeGroup = planGroups(b, r, perProject);
  // 3. Sources and session ids: the resumed pair is Claude; the rest at random.
  const pair = planSources(b, r, resumeGroup, nClaude, nCodex);
  // 4. Git flags: a worktree task, a branch left open, a squash merge.
  if (b.git && b.trapsOn) planGitFlags(b, resumeGroup);
  // 5. Traps, per source.
  planTraps(b, r);
  // 6. Claude roots and bad lines.
  planRoots(b, r, pair);
  planBadLines(b, r);
  // 7. Branch creation for task groups, human-only commits far from any session.
  if (b.git) {
    planBranches(b, r);
    planHumanCommits(b, r, perProject);
  }
}

/** Step 1: one slot a session, round-robin over the projects; per project, one slot per segment of the window. */
function planSlots(b: Builder, r: Rng, n: number): Slot[][] {
  const nProj = b.projects.length;
  const order = r.shuffle([...Array(n).keys()]);
  const perProject: Slot[][] = b.projects.map(() => []);
  for (let k = 0; k < n; k++) {
    const p = k % nProj;
    const slot: Slot = {
      i: order[k] ?? k,
      project: p,
      start: 0,
      source: 'claude-code',
      role: 'task',
      group: null,
      traps: new Set(),
      rootIdx: 0,
      badLines: 0,
      id: '',
      resumes: null,
    };
    perProject[p]?.push(slot);
    b.slots.push(slot);
  }
  // Times: per project, one slot per segment of the window, at least ~2 h apart.
  const lo = b.ws + 20 * MIN;
  const hi = b.end - 75 * MIN;
  for (const list of perProject) {
    if (list.length === 0) continue;
    const seg = (hi - lo) / list.length;
    list.forEach((s, i) => {
      s.start = Math.floor(lo + i * seg + r.next() * Math.max(0, seg - 130 * MIN));
    });
  }
  return perProject;
}

/** Step 2: an exploration slot per project (three slots or more), the rest in task groups; returns the resumed pair's group. */
function planGroups(b: Builder, r: Rng, perProject: Slot[][]): Group | null {
  let resumeGroup: Group | null = null;
  perProject.forEach((list, p) => {
    const proj = b.projects[p];
    if (!proj) return;
    const explore = list.length >= 3 ? r.int(0, list.length - 1) : -1;
    let cur: Group | null = null;
    let want = 0;
    list.forEach((s, i) => {
      if (i === explore) {
        s.role = 'exploration';
        return;
      }
      if (!cur || cur.slots.length >= want) {
        const area = r.pick(proj.areas);
        const key = `${proj.key}-${proj.nextKey}`;
        proj.nextKey += r.int(1, 9);
        const title = r.pick(TASK_TITLES).replace('{area}', area);
        const slug = slugOf(title);
        const branch = r.chance(0.75)
          ? `feature/${key}`
          : r.chance(0.5)
            ? `fix/${key}-${slug}`
            : `${key.toLowerCase()}-${slug}`;
        cur = {
          project: p,
          key,
          title,
          area,
          branch,
          slots: [],
          worktree: null,
          squash: false,
          open: false,
          pr: proj.nextPr,
          lastCommitT: 0,
        };
        proj.nextPr += r.int(1, 3);
        b.groups.push(cur);
        want = p === 0 && resumeGroup === null && b.trapsOn ? 2 : r.chance(0.4) ? 2 : 1;
        if (p === 0 && resumeGroup === null && b.trapsOn) resumeGroup = cur;
      }
      s.group = cur;
      cur.slots.push(s);
    });
  });
  return resumeGroup;
}

/** Step 3: each slot's source and session id; returns the resumed pair (empty without one). */
function planSources(b: Builder, r: Rng, rg: Group | null, nClaude: number, nCodex: number): Slot[] {
  const pair = rg && rg.slots.length === 2 && nClaude >= 2 ? rg.slots : [];
  const rest = b.slots.filter((s) => !pair.includes(s));
  const sources: TruthSource[] = [];
  for (let k = 0; k < nClaude - pair.length; k++) sources.push('claude-code');
  for (let k = 0; k < nCodex; k++) sources.push('codex');
  r.shuffle(sources);
  rest.forEach((s, k) => {
    s.source = sources[k] ?? 'claude-code';
  });
  for (const s of pair) s.source = 'claude-code';
  const [pa, pb] = pair;
  if (pa && pb) {
    pb.resumes = pa;
    pa.traps.add('resumed-source');
    pb.traps.add('resumed');
  }
  for (const s of b.slots) {
    s.id = s.source === 'claude-code' ? r.uuid4() : r.uuid7(s.start);
  }
  return pair;
}

/** Step 4: a worktree task (preferably in the first repo, with a Claude session), the last project's last group left open, a squash merge. */
function planGitFlags(b: Builder, rg: Group | null): void {
  const others = b.groups.filter((g) => g !== rg).sort((x, y) => x.project - y.project);
  const wt = others.find((g) => g.slots.some((s) => s.source === 'claude-code')) ?? others[0];
  const wtProj = wt ? b.projects[wt.project] : undefined;
  if (wt && wtProj) wt.worktree = path.join(b.root, 'repos', `${wtProj.name}-wt-${wt.key.toLowerCase()}`);
  const lastProj = b.projects.length - 1;
  const lastGroups = b.groups.filter((g) => g.project === lastProj);
  const openG = lastGroups.length >= 2 ? lastGroups[lastGroups.length - 1] : undefined;
  if (openG) openG.open = true;
  const sq =
    b.groups.find((g) => g.project === Math.min(1, lastProj) && !g.open && g.worktree === null && g !== rg) ??
    b.groups.find((g) => !g.open && g.worktree === null && g !== rg);
  if (sq) sq.squash = true;
}

/** Step 5: the Claude traps, then the Codex traps, each on the first shuffled slot that can take it. */
function planTraps(b: Builder, r: Rng): void {
  const claude = r.shuffle(
    b.slots.filter((s) => s.source === 'claude-code' && s.resumes === null && !s.traps.has('resumed-source')),
  );
  const claudeAll = claude.length > 0 ? claude : b.slots.filter((s) => s.source === 'claude-code');
  const claudeTraps: TrapRule[] = [];
  if (b.trapsOn) {
    claudeTraps.push(
      { name: 'subagent', ok: () => true },
      { name: 'synthetic', ok: () => true },
      { name: 'no-request-id', ok: () => true },
      { name: 'cost-usd', ok: (s) => !s.traps.has('subagent') },
      { name: 'root-copy', ok: (s) => s.resumes === null && !s.traps.has('resumed-source') },
      { name: 'model-switch', ok: () => true },
      { name: 'notebook', ok: (s) => s.role === 'task' },
      { name: 'subdir', ok: (s) => s.group?.worktree == null },
      {
        name: 'second-root',
        ok: (s) => !s.traps.has('root-copy') && s.resumes === null && !s.traps.has('resumed-source'),
      },
    );
  }
  if (b.opts.halfWrittenTail === true)
    claudeTraps.push({ name: 'half-written', ok: (s) => !s.traps.has('root-copy') && !s.traps.has('resumed-source') });
  assignTraps(claudeAll, claudeTraps);
  const codex = r.shuffle(b.slots.filter((s) => s.source === 'codex'));
  const codexTraps: TrapRule[] = [];
  if (b.trapsOn) {
    codexTraps.push(
      { name: 'reset', ok: () => true },
      { name: 'no-turn-context', ok: () => true },
      { name: 'archived-copy', ok: (s) => !s.traps.has('archived-only') },
      { name: 'archived-only', ok: (s) => !s.traps.has('archived-copy') },
      { name: 'model-switch', ok: (s) => !s.traps.has('no-turn-context') },
      { name: 'shell-apply-patch', ok: (s) => s.role === 'task' },
      { name: 'force-reemit', ok: () => true },
      { name: 'subdir', ok: (s) => s.group?.worktree == null },
    );
  }
  if (b.opts.halfWrittenTail === true)
    codexTraps.push({
      name: 'half-written',
      ok: (s) => !s.traps.has('archived-copy') && !s.traps.has('archived-only'),
    });
  assignTraps(codex, codexTraps);
}

function assignTraps(cands: Slot[], traps: TrapRule[]): void {
  if (cands.length === 0) return;
  let k = 0;
  for (const t of traps) {
    for (let tries = 0; tries < cands.length; tries++) {
      const s = cands[(k + tries) % cands.length];
      if (s && t.ok(s)) {
        s.traps.add(t.name);
        k = k + tries + 1;
        break;
      }
    }
  }
}

/** Step 6a: Claude roots: about 40% of sessions live in the second root; a resumed pair shares its root. */
function planRoots(b: Builder, r: Rng, [pa, pb]: Slot[]): void {
  for (const s of b.slots) {
    if (s.source !== 'claude-code') continue;
    if (s.traps.has('second-root')) s.rootIdx = 1;
    else if (s.traps.has('root-copy')) s.rootIdx = 0;
    else s.rootIdx = r.chance(0.4) ? 1 : 0;
  }
  if (pa && pb) pb.rootIdx = pa.rootIdx;
}

/** Step 6b: bad lines go into base files that are not copied elsewhere. */
function planBadLines(b: Builder, r: Rng): void {
  const badN = Math.max(0, Math.floor(b.opts.badLines ?? 0));
  const targets = b.slots.filter((s) => !s.traps.has('root-copy') && !s.traps.has('archived-copy'));
  for (let k = 0; k < badN && targets.length > 0; k++) {
    const t = r.pick(targets);
    t.badLines++;
  }
}

/** Step 7a: each task group's branch (in its worktree, if it has one), a few minutes before its first session. */
function planBranches(b: Builder, r: Rng): void {
  for (const g of b.groups) {
    const first = g.slots[0];
    const proj = b.projects[g.project];
    if (!first || !proj || proj.repoIdx === null) continue;
    const op: { kind: 'branch'; t: number; repo: number; branch: string; worktree?: string } = {
      kind: 'branch',
      t: first.start - r.int(2, 8) * MIN,
      repo: proj.repoIdx,
      branch: g.branch,
    };
    if (g.worktree !== null) op.worktree = g.worktree;
    b.git?.schedule(op);
  }
}

/** Step 7b: up to two human-only commits per project, each at least two hours from any session. */
function planHumanCommits(b: Builder, r: Rng, perProject: Slot[][]): void {
  if (!b.git) return;
  const busy = b.slots.map((s) => [s.start - 10 * MIN, s.start + 70 * MIN] as const);
  const far = (t: number): boolean => busy.every(([a, b]) => t < a - 2 * HOUR || t > b + 2 * HOUR);
  const subjects = [
    'Update CHANGELOG for release',
    'Bump dependencies',
    'Docs: clarify the on-call runbook',
    'Add CODEOWNERS',
    'Tidy README badges',
  ];
  perProject.forEach((list, p) => {
    const proj = b.projects[p];
    if (!proj || proj.repoIdx === null) return;
    const times = [b.ws + 30 * MIN, ...list.map((s) => s.start + 70 * MIN)].sort((a, b) => a - b);
    const nexts = [...list.map((s) => s.start - 10 * MIN), b.end - 30 * MIN].sort((a, b) => a - b);
    const cands: number[] = [];
    for (let i = 0; i < times.length; i++) {
      const a = times[i] ?? 0;
      const b = nexts[i] ?? 0;
      if (b - a < 5 * HOUR) continue;
      const t = Math.floor(a + (b - a) * (0.3 + 0.4 * r.next()));
      if (far(t)) cands.push(t);
    }
    r.shuffle(cands);
    for (const t of cands.slice(0, 2)) {
      const rel = r.pick(HUMAN_FILES);
      b.git?.schedule({
        kind: 'human',
        t,
        repo: proj.repoIdx,
        subject: r.pick(subjects),
        rel,
        author: r.chance(0.7) ? ENGINEER : TEAMMATE,
      });
      b.trap('human-commit', `${proj.name}@${t}`);
    }
  });
}
