/**
 * Manual entries: AI interactions the engineer logs by hand (a web chat, a tool with no local logs). Each entry is its
 * own session of source `manual` with one interaction, so every figure treats it like any other session (it can be
 * linked to commits through its repository and branch, or count for its task). Tokens are the counts the tool showed,
 * or estimated from pasted text with the tokenizer (then marked estimated); the pasted text itself is never stored.
 * Shared by the CLI (`outcome-ledger manual …`) and the VS Code command "Log an AI interaction…".
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { boundedTokens, MAX_TOKENS_PER_FIELD } from '../core/usage/bounds';
import type { InteractionRecord } from '../core/usage/model';
import { accuracyOf, roundUSD, type TokenAccuracy } from '../core/outcomes/report';
import { fromNanoUSD } from '../core/usage/pricing';
import { isoUtc } from '../core/usage/time';
import { RepoFinder } from '../git/repo';
import { estimateTokens } from '../sources/tokenize';
import type { Ledger } from '../store/ledger';
import { RecordWriter } from '../store/records';
import { rebuildRollup } from '../store/rollup';
import { clearSessionLog, setSessionPlace } from '../store/paths';

export class ManualEntryError extends Error {}

/** What the engineer says about an interaction. Either token counts or text to estimate them from. */
export interface ManualEntryInput {
  /** The tool, as the engineer names it ("ChatGPT web", "Claude.ai", "Gemini app"). */
  tool: string;
  model: string;
  /** Counts the tool showed (exact). */
  inputTokens?: number;
  outputTokens?: number;
  /** Pasted text to count tokens from (estimated); never stored. */
  promptText?: string;
  replyText?: string;
  task?: string | null;
  branch?: string | null;
  /** A folder inside the repository the work was for (its root is found with git's layout). */
  repo?: string | null;
  /** When it happened (epoch ms). */
  at: number;
}

export type ManualEntryPatch = Partial<ManualEntryInput>;

export interface ManualEntry {
  /** `manual:<key>`, the session id `sessions` prints. */
  id: string;
  tool: string;
  model: string;
  at: string;
  tokens: { input: number; output: number; total: number };
  tokenAccuracy: TokenAccuracy;
  costUSD: number;
  task: string | null;
  branch: string | null;
  repo: string | null;
}

const MAX_NAME = 120;
const MAX_TEXT = 4 << 20;
const TASK = /^[A-Za-z0-9][\w.#/-]{0,79}$/;

function clean(v: string | null | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

interface Resolved {
  tool: string;
  model: string;
  input: number;
  output: number;
  estimated: boolean;
  task: string | null;
  branch: string | null;
  cwd: string | null;
  repo: string | null;
  at: number;
}

/** Validates an entry and counts its tokens. Throws ManualEntryError with a message a person can act on. */
function resolve(e: ManualEntryInput, repos: RepoFinder, now: number): Resolved {
  const tool = clean(e.tool);
  if (!tool || tool.length > MAX_NAME)
    throw new ManualEntryError(`the tool name is required (at most ${MAX_NAME} characters), for example "ChatGPT web"`);
  const model = clean(e.model);
  if (!model || model.length > MAX_NAME || /\s/.test(model))
    throw new ManualEntryError('the model is required, one word such as gpt-4o or claude-sonnet-4-5');
  const hasCounts = e.inputTokens !== undefined || e.outputTokens !== undefined;
  const hasText = Boolean(e.promptText || e.replyText);
  if (hasCounts && hasText) throw new ManualEntryError('give token counts or text to estimate them from, not both');
  if (!hasCounts && !hasText)
    throw new ManualEntryError('give the token counts the tool showed, or paste the text to estimate them from');
  let input: number;
  let output: number;
  if (hasCounts) {
    input = e.inputTokens ?? 0;
    output = e.outputTokens ?? 0;
    if (boundedTokens(input) === undefined || boundedTokens(output) === undefined)
      throw new ManualEntryError(
        `token counts must be whole numbers from 0 to ${MAX_TOKENS_PER_FIELD.toLocaleString('en-US')}`,
      );
  } else {
    if ((e.promptText?.length ?? 0) + (e.replyText?.length ?? 0) > MAX_TEXT)
      throw new ManualEntryError('the pasted text is larger than 4 MB; give token counts instead');
    input = estimateTokens(e.promptText ?? '');
    output = estimateTokens(e.replyText ?? '');
  }
  if (input + output === 0) throw new ManualEntryError('an interaction of 0 tokens is not worth logging');
  if (!Number.isFinite(e.at) || e.at < Date.UTC(2015, 0, 1)) throw new ManualEntryError('the time is not a valid date');
  if (e.at > now + 5 * 60_000) throw new ManualEntryError('the time is in the future');
  const task = clean(e.task);
  if (task && !TASK.test(task))
    throw new ManualEntryError(`"${task}" does not look like a task key (for example PAY-7 or #123)`);
  const branch = clean(e.branch);
  const folder = clean(e.repo);
  const cwd = folder ? path.resolve(folder) : null;
  const repo = cwd ? repos.rootOf(cwd) : null;
  if (cwd && !repo) throw new ManualEntryError(`${cwd} is not inside a git repository`);
  return { tool, model, input, output, estimated: !hasCounts, task, branch, cwd: repo, repo, at: e.at };
}

function newKey(): string {
  return `m-${randomBytes(6).toString('hex')}`;
}

function write(db: Database, key: string, r: Resolved, repos: RepoFinder): number {
  const writer = new RecordWriter(db, { repoOf: (cwd) => repos.rootOf(cwd) });
  const record: InteractionRecord = {
    kind: 'interaction',
    key: `manual:${key}`,
    session: {
      source: 'manual',
      sessionId: key,
      ...(r.cwd ? { cwd: r.cwd } : {}),
      ...(r.branch ? { branch: r.branch } : {}),
    },
    timestamp: r.at,
    model: r.model,
    tokens: { input: r.input, output: r.output, cacheRead: 0, cacheWrite: 0, reasoning: 0 },
    cacheWrite1h: 0,
    sidechain: false,
    ...(r.estimated ? { estimated: true } : {}),
  };
  try {
    writer.add(record, '');
  } finally {
    writer.free();
  }
  const ref = sessionRef(db, key) ?? -1;
  // The session keeps no log path: there is no log to open.
  clearSessionLog(db, ref);
  return ref;
}

function sessionRef(db: Database, key: string): number | undefined {
  const v = db.exec("SELECT id FROM sessions WHERE source = 'manual' AND session_key = ?", [key])[0]?.values[0]?.[0];
  return v === undefined ? undefined : Number(v);
}

/** Logs an interaction; returns the stored entry. */
export async function addManualEntry(ledger: Ledger, e: ManualEntryInput, now = Date.now()): Promise<ManualEntry> {
  const repos = new RepoFinder();
  const r = resolve(e, repos, now);
  const key = newKey();
  await ledger.write((db) => {
    const ref = write(db, key, r, repos);
    db.run('INSERT INTO manual_entries (session_ref, tool, task, from_text, created, updated) VALUES (?,?,?,?,?,?)', [
      ref,
      r.tool,
      r.task,
      r.estimated ? 1 : 0,
      now,
      now,
    ]);
  });
  return getManualEntry(ledger.database, key);
}

/** Finds an entry by `manual:<key>`, `<key>`, or a unique prefix of either. */
function resolveManualKey(db: Database, id: string): string {
  const bare = id.startsWith('manual:') ? id.slice(7) : id;
  if (!bare) throw new ManualEntryError('give the id of a manual entry (see `outcome-ledger manual list`)');
  const rows = (
    db.exec(
      "SELECT s.session_key FROM sessions s JOIN manual_entries m ON m.session_ref = s.id WHERE s.source = 'manual' AND s.session_key LIKE ? ESCAPE '\\'",
      [`${bare.replace(/[\\%_]/g, (c) => `\\${c}`)}%`],
    )[0]?.values ?? []
  ).map((v) => String(v[0]));
  if (rows.includes(bare)) return bare;
  if (rows.length === 1 && rows[0]) return rows[0];
  if (rows.length === 0)
    throw new ManualEntryError(`no manual entry matches "${id}" (see \`outcome-ledger manual list\`)`);
  throw new ManualEntryError(`"${id}" matches several manual entries; give more of the id`);
}

/** Every manual entry, newest first. */
export function listManualEntries(db: Database): ManualEntry[] {
  const r = db.exec(
    `SELECT s.session_key, m.tool, mo.name, i.ts, i.input, i.output, i.flags, i.cost_nusd, m.task, s.branch, s.repo
     FROM manual_entries m JOIN sessions s ON s.id = m.session_ref JOIN interactions i ON i.session_ref = s.id JOIN models mo ON mo.id = i.model_ref
     ORDER BY i.ts DESC, s.session_key`,
  );
  return (r[0]?.values ?? []).map((v) => {
    const input = Number(v[4]);
    const output = Number(v[5]);
    const total = input + output;
    return {
      id: `manual:${String(v[0])}`,
      tool: String(v[1]),
      model: String(v[2]),
      at: isoUtc(Number(v[3])),
      tokens: { input, output, total },
      tokenAccuracy: accuracyOf(total, (Number(v[6]) & 4) !== 0 ? total : 0),
      costUSD: v[7] === null ? 0 : roundUSD(fromNanoUSD(Number(v[7]))),
      task: v[8] === null ? null : String(v[8]),
      branch: v[9] === null ? null : String(v[9]),
      repo: v[10] === null ? null : String(v[10]),
    };
  });
}

export function getManualEntry(db: Database, id: string): ManualEntry {
  const key = resolveManualKey(db, id);
  const e = listManualEntries(db).find((x) => x.id === `manual:${key}`);
  if (!e) throw new ManualEntryError(`no manual entry matches "${id}"`);
  return e;
}

/** Changes an entry: fields given replace the stored ones (new counts or new text replace the tokens). */
export async function editManualEntry(
  ledger: Ledger,
  id: string,
  patch: ManualEntryPatch,
  now = Date.now(),
): Promise<ManualEntry> {
  const repos = new RepoFinder();
  const key = await ledger.write((db) => {
    const k = resolveManualKey(db, id);
    const old = getManualEntry(db, k);
    const tokensGiven =
      patch.inputTokens !== undefined ||
      patch.outputTokens !== undefined ||
      patch.promptText !== undefined ||
      patch.replyText !== undefined;
    const merged: ManualEntryInput = {
      tool: patch.tool ?? old.tool,
      model: patch.model ?? old.model,
      at: patch.at ?? Date.parse(old.at),
      task: patch.task !== undefined ? patch.task : old.task,
      branch: patch.branch !== undefined ? patch.branch : old.branch,
      repo: patch.repo !== undefined ? patch.repo : old.repo,
      ...(tokensGiven
        ? {
            inputTokens: patch.inputTokens,
            outputTokens: patch.outputTokens,
            promptText: patch.promptText,
            replyText: patch.replyText,
          }
        : {}),
    };
    let r: Resolved;
    if (tokensGiven) r = resolve(merged, repos, now);
    else {
      // Tokens unchanged: keep the stored counts and whether they were estimated.
      r = resolve({ ...merged, inputTokens: old.tokens.input, outputTokens: old.tokens.output }, repos, now);
      r.estimated = old.tokenAccuracy !== 'exact';
    }
    const ref = sessionRef(db, k);
    if (ref === undefined) throw new ManualEntryError(`no manual entry matches "${id}"`);
    db.run('DELETE FROM interactions WHERE session_ref = ?', [ref]);
    db.run('DELETE FROM session_branches WHERE session_ref = ?', [ref]);
    setSessionPlace(db, ref, r.cwd, r.repo, r.branch);
    // Re-linked on the next link run: what the entry says about its repository or branch may have changed.
    db.run('DELETE FROM session_links WHERE session_ref = ?', [ref]);
    write(db, k, r, repos);
    rebuildRollup(db, new Set([ref]));
    db.run('UPDATE manual_entries SET tool = ?, task = ?, from_text = ?, updated = ? WHERE session_ref = ?', [
      r.tool,
      r.task,
      r.estimated ? 1 : 0,
      now,
      ref,
    ]);
    return k;
  });
  return getManualEntry(ledger.database, key);
}

/** Deletes an entry and everything derived from it (its session, links and usage sums). */
export async function deleteManualEntry(ledger: Ledger, id: string): Promise<string> {
  return ledger.write((db) => {
    const k = resolveManualKey(db, id);
    const ref = sessionRef(db, k);
    if (ref === undefined) throw new ManualEntryError(`no manual entry matches "${id}"`);
    for (const table of [
      'interactions',
      'session_files',
      'session_branches',
      'prompts',
      'links',
      'session_links',
      'manual_entries',
    ]) {
      db.run(`DELETE FROM ${table} WHERE session_ref = ?`, [ref]);
    }
    // Regrouped before the session row goes: the per-source totals take its source from it (store/aggregates.ts).
    rebuildRollup(db, new Set([ref]));
    db.run('DELETE FROM sessions WHERE id = ?', [ref]);
    return `manual:${k}`;
  });
}
