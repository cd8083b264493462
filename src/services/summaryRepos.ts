/**
 * `verify --repo PATH` (issue 14): every commit a summary cites, looked up in the repositories a reviewer names — it
 * exists in one of them, its author time, subject and changed files are what the summary says, and it is reachable
 * from that repository's default branch. One line per commit that fails, naming it. The repositories are untrusted
 * (git/cited.ts only reads them); a redacted summary is checked as far as it can be, saying what could not be.
 */
import * as path from 'node:path';
import type { RawCommit } from '../core/outcomes/commits';
import { lineText } from '../core/common/text';
import { noun } from '../core/usage/format';
import { isoSecond } from '../core/summary/build';
import type { SummaryCommit, SummaryDocument } from '../core/summary/schema';
import { citedCommits, defaultBranch, notReachable, repositoryProblem, type DefaultBranch } from '../git/cited';
import { GitMissingError } from '../git/run';
import { filesDigest, type Verdict } from './summary';

export interface RepoCheck {
  /** One line per cited commit that is missing or differs, and per repository that cannot be read. */
  problems: string[];
  checks: string[];
  /** What the summary does not let a repository check (redacted subjects), said plainly. */
  notChecked: string[];
  /** Cited commits that exist but are not on the default branch (not merged yet): said, not a failure. */
  warnings: string[];
}

/** Control characters and bidirectional overrides (a hostile subject or path) never reach a terminal or a message. */
function quoted(v: string, max = 100): string {
  const clean = lineText(v);
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max - 1)}…` : clean);
}

interface Cited {
  commit: SummaryCommit;
  /** Where the summary cites it, for the message. */
  where: string;
}

/** Every distinct commit the summary cites (by full SHA), with the first place it is cited. */
function citedOf(doc: SummaryDocument): Map<string, Cited> {
  const out = new Map<string, Cited>();
  for (const t of doc.summary.tasks) {
    for (const o of t.outcomes) {
      for (const c of o.commits)
        if (!out.has(c.sha))
          out.set(c.sha, { commit: c, where: t.task === null ? 'an outcome without a task key' : `task ${t.task}` });
    }
  }
  return out;
}

/** How the repository's commit differs from what the summary says about it (empty: the same). */
function differences(c: SummaryCommit, actual: RawCommit, subjects: boolean): string[] {
  const out: string[] = [];
  const at = isoSecond(actual.authorTime);
  if (at !== c.authoredAt) out.push(`authored ${at}, the summary says ${c.authoredAt}`);
  if (subjects && c.subject !== null && c.subject !== actual.subject)
    out.push(`its subject is ${quoted(actual.subject)}, the summary says ${quoted(c.subject)}`);
  const files = filesDigest(actual.parents.length > 1 ? [] : actual.files.map((f) => f.path));
  if (files.count !== c.files.count)
    out.push(`it changed ${files.count} ${noun(files.count, 'file')}, the summary says ${c.files.count}`);
  else if (files.sha256 !== c.files.sha256) out.push('it changed other files than the summary says');
  return out;
}

/**
 * Checks every cited commit against `repos`. Never throws for what a repository holds: a folder that is not a
 * repository, or one git refuses to read, is a problem line of its own.
 */
async function checkCitedCommits(doc: SummaryDocument, repos: readonly string[]): Promise<RepoCheck> {
  const problems: string[] = [];
  const checks: string[] = [];
  const notChecked: string[] = [];
  const warnings: string[] = [];
  const cited = citedOf(doc);
  const redacted = doc.summary.redacted;
  const remaining = new Set(cited.keys());
  const found = new Map<
    string,
    { repo: string; commit: RawCommit; branch: DefaultBranch | undefined; reachable: boolean }
  >();
  const readable: string[] = [];
  for (const given of repos) {
    const repo = path.resolve(given);
    let problem: string | undefined;
    try {
      problem = await repositoryProblem(repo);
    } catch (e) {
      if (e instanceof GitMissingError) throw e;
      problem = (e as Error).message;
    }
    if (problem !== undefined) {
      problems.push(`the repository ${quoted(given, 300)} cannot be read: ${lineText(problem)}`);
      continue;
    }
    readable.push(given);
    if (remaining.size === 0) continue;
    try {
      const commits = await citedCommits(repo, [...remaining]);
      if (commits.size === 0) continue;
      const branch = await defaultBranch(repo);
      const unmerged = branch ? await notReachable(repo, [...commits.keys()], branch.ref) : new Set(commits.keys());
      for (const [sha, commit] of commits) {
        found.set(sha, { repo: given, commit, branch, reachable: !unmerged.has(sha) });
        remaining.delete(sha);
      }
    } catch (e) {
      if (e instanceof GitMissingError) throw e;
      problems.push(`the repository ${quoted(given, 300)} cannot be read: ${lineText((e as Error).message)}`);
    }
  }
  if (readable.length === 0) return { problems, checks, notChecked, warnings };

  const subjects = !redacted.subjects;
  let same = 0;
  let merged = 0;
  const branches = new Set<string>();
  for (const [sha, c] of cited) {
    const name = `commit ${sha.slice(0, 12)} (${c.where}${c.commit.subject !== null ? `, ${quoted(c.commit.subject, 60)}` : ''})`;
    const f = found.get(sha);
    if (!f) {
      problems.push(
        `${name} is in none of the repositories given (${readable.map((r) => quoted(r, 120)).join(', ')}): the summary cites a commit they do not hold`,
      );
      continue;
    }
    const diff = differences(c.commit, f.commit, subjects);
    if (diff.length > 0) problems.push(`${name} differs in ${quoted(f.repo, 120)}: ${diff.join('; ')}`);
    else same++;
    if (f.branch) branches.add(`${f.branch.name} in ${quoted(f.repo, 120)}`);
    if (!f.reachable)
      warnings.push(
        `${name} is not on the default branch of ${quoted(f.repo, 120)} (${f.branch?.name ?? 'the repository has no commit on a branch'}): it exists, but has not shipped there (yet)`,
      );
    else merged++;
  }
  if (cited.size === 0) checks.push('the summary cites no commit, so the repositories had nothing to confirm');
  else {
    if (same === cited.size)
      checks.push(
        `all ${cited.size} cited ${noun(cited.size, 'commit exists', 'commits exist')} in the repositories given, with the author time${subjects ? ', subject' : ''} and changed files the summary gives`,
      );
    if (merged === cited.size)
      checks.push(`all ${cited.size} are on the default branch (${[...branches].sort().join('; ')})`);
  }
  if (redacted.subjects)
    notChecked.push(
      'not checked: the commit subjects. The summary redacts them, so they were not compared (each commit was still found by its full SHA, with its author time and changed files)',
    );
  if (redacted.repos)
    notChecked.push(
      'not checked: which repository each commit belongs to. The summary redacts repository names, so each commit was looked up in every repository given',
    );
  return { problems, checks, notChecked, warnings };
}

/**
 * Completes a verdict with the repository check (when the signature held: an unsigned file's commits prove nothing)
 * and says what was not checked: without repositories, that the cited commits exist.
 */
export async function withRepositories(v: Verdict, repos: readonly string[]): Promise<Verdict> {
  if (!v.signed || !v.doc) return v;
  if (repos.length === 0) {
    const n = citedOf(v.doc).size;
    if (n === 0) return v;
    return {
      ...v,
      notChecked: [
        `not checked: that the ${n} cited ${noun(n, 'commit exists', 'commits exist')} and shipped: run verify with --repo PATH for each repository (a clone will do)`,
        ...v.notChecked,
      ],
    };
  }
  const r = await checkCitedCommits(v.doc, repos);
  const problems = [...v.problems, ...r.problems];
  return {
    ...v,
    ok: v.ok && problems.length === 0,
    problems,
    checks: [...v.checks, ...r.checks],
    warnings: [...v.warnings, ...r.warnings],
    notChecked: [...r.notChecked, ...v.notChecked],
  };
}
