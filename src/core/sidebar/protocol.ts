/**
 * The one protocol between the sidebar's host (src/extension/sidebarView.ts) and its webview (src/webview/).
 *
 * - View → host messages are untrusted (a webview is a web page): each has a zod schema here and the host parses
 *   every message with `parseViewMessage` before acting on it. Their TypeScript types are inferred from the schemas,
 *   so the two cannot drift apart.
 * - Host → view: one complete snapshot at a time (never a partial update a reloaded view could miss), plus results
 *   of actions for the live region.
 * - Ready handshake: the view says `view/ready` with the query it restored from its state; the host answers with a
 *   snapshot for it, and with a new snapshot whenever the ledger changes while the view is visible.
 *
 * Message names are scoped (`view/…`, `link/…`, `session/…`, `host/…`). Pure: zod only, and only inside
 * `schemas()`, so the webview's bundle (types and constants from here) carries no zod.
 */
import * as z from 'zod/mini';
import { SESSION_LABELS, type SessionStatus, type SourceName } from '../usage/model';
import { PERIOD_KINDS, type ResolvedPeriod } from '../usage/periods';
import type { SelfCheck } from '../outcomes/selfcheck';

/** Bumped when a message changes shape: a view from another build asks again instead of misreading. */
export const SIDEBAR_PROTOCOL = 1;

/**
 * The schemas of what the view may send, built on first use: activation does not pay for them, and the webview's
 * bundle (which imports this file for its types and constants) leaves them and zod out.
 */
function schemas() {
  const date = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/));
  /** `source:session-key`, as `sessions --json` prints it. */
  const sessionId = z.string().check(z.minLength(1), z.maxLength(400));
  const sha = z.string().check(z.regex(/^[0-9a-fA-F]{4,64}$/));
  /**
   * What the figures are for: a period and an optional scope. `scope` is '' (everything), `repo:<root>` or
   * `task:<KEY>`; the host only ever matches it against the ledger, never runs anything with it.
   */
  const query = z.object({
    period: z.enum(PERIOD_KINDS),
    since: z.optional(date),
    until: z.optional(date),
    scope: z.string().check(z.maxLength(1024)),
    /** How many sessions needing a decision to list (the view's "Show more"). */
    decisions: z.number().check(z.int(), z.gte(1), z.lte(200)),
  });
  const view = z.discriminatedUnion('type', [
    z.object({ type: z.literal('view/ready'), protocol: z.number(), query }),
    z.object({ type: z.literal('view/query'), query }),
    /** After painting a snapshot: how long it took (the first one since the page loaded also says when that was). */
    z.object({
      type: z.literal('view/rendered'),
      seq: z.number().check(z.int(), z.gte(0)),
      renderMs: z.number().check(z.gte(0), z.lte(600_000)),
      firstPaintMs: z.optional(z.number().check(z.gte(0), z.lte(600_000))),
      /**
       * Page times (ms since its navigation started) at which its document had arrived, it said ready, and the first
       * snapshot arrived: where a slow first paint went (VS Code's webview service worker, the page, or the host).
       */
      documentMs: z.optional(z.number().check(z.gte(0), z.lte(600_000))),
      readyMs: z.optional(z.number().check(z.gte(0), z.lte(600_000))),
      receivedMs: z.optional(z.number().check(z.gte(0), z.lte(600_000))),
    }),
    z.object({ type: z.literal('link/confirm'), sessionId, sha }),
    z.object({ type: z.literal('link/reject'), sessionId, sha }),
    z.object({ type: z.literal('link/relink'), sessionId }),
    z.object({ type: z.literal('session/label'), sessionId, label: z.enum([...SESSION_LABELS, 'none']) }),
    z.object({ type: z.literal('session/open'), sessionId }),
    z.object({ type: z.literal('commit/open'), repo: z.string().check(z.minLength(1), z.maxLength(4096)), sha }),
    z.object({ type: z.literal('command/run'), command: z.enum(VIEW_COMMANDS) }),
  ]);
  return { query, view };
}

type Schemas = ReturnType<typeof schemas>;
export type SidebarQuery = z.infer<Schemas['query']>;
export type ViewMessage = z.infer<Schemas['view']>;

export const DEFAULT_QUERY: SidebarQuery = { period: '7d', scope: '', decisions: 8 };

/** Commands the view may ask for, by name (never a command id from the page). */
const VIEW_COMMANDS = ['importNow', 'showDataHealth', 'openSettings', 'openLedgerFolder'] as const;
export type ViewCommand = (typeof VIEW_COMMANDS)[number];

let built: Schemas | undefined;

/** Parses a message from the webview; undefined for anything that is not exactly one of ours. */
export function parseViewMessage(raw: unknown): ViewMessage | undefined {
  built ??= schemas();
  const r = built.view.safeParse(raw);
  return r.success ? r.data : undefined;
}

// ---- host → view ------------------------------------------------------------------------------------------------

export type FigureId =
  | 'commits'
  | 'tasks'
  | 'prs'
  | 'tokens'
  | 'credits'
  | 'cost'
  | 'planCost'
  | 'yield'
  | 'tokensPerCommit'
  | 'keptPer1k'
  | 'withoutOutcome';

/**
 * How a change reads. `neutral`: a volume, not a score — more tokens or dollars are never shown as progress, and
 * outcome counts are not a target either (Goodhart). Ratios of value per token have a direction.
 */
export type Better = 'higher' | 'lower' | 'neutral';

export interface Coverage {
  level: 'complete' | 'partial' | 'none';
  /** One plain sentence: which sources, from when, and what is missing. */
  note: string;
}

export interface Figure {
  id: FigureId;
  label: string;
  value: number | null;
  previous: number | null;
  better: Better;
  coverage: Coverage;
  /**
   * For token figures (and the cost derived from them): whether they are exact (reported by the tools), estimated
   * (counted from text or rounded by a tool) or mixed. Absent on figures that are not token counts.
   */
  accuracy?: 'exact' | 'estimated' | 'mixed';
  /** The tokens of the period that were estimated (with `accuracy`). */
  estimatedTokens?: number;
}

/** One bar of the chart: a day (or a week on long ranges), tokens by what became of their sessions. */
export interface ChartBar {
  /** First day of the bar (YYYY-MM-DD, local). */
  date: string;
  shipped: number;
  open: number;
  without: number;
  /** Counted commits authored that day. */
  commits: number;
}

export interface CommitRef {
  repo: string;
  sha: string;
  subject: string;
  pr: number | null;
}

export interface TaskRow {
  task: string;
  tokens: number;
  /** Some or all of its tokens were estimated, not reported by the tool. */
  estimated?: boolean;
  costUSD: number;
  sessions: number;
  delivered: boolean;
  commits: CommitRef[];
  prs: number[];
}

export interface Candidate extends CommitRef {
  committed: string;
  confidence: number;
  counted: boolean;
  state: 'auto' | 'confirmed' | 'rejected';
  why: string;
  /** Why a confident link still does not count (a revert, reverted later, not merged, someone else's), if it does not. */
  standing?: string;
}

export interface DecisionRow {
  sessionId: string;
  source: SourceName;
  title: string;
  repo: string | null;
  start: string;
  end: string;
  tokens: number;
  costUSD: number;
  status: SessionStatus;
  /** Why it is listed. */
  reason: 'unlinked' | 'low-confidence' | 'candidate';
  hasLog: boolean;
  /** Some or all of its tokens were estimated, not reported by the tool. */
  estimated?: boolean;
  /** The best link the linker proposed that the engineer has not rejected, if any. */
  candidate: Candidate | null;
  /** Commits the engineer rejected for this session (so "Reject" visibly did something). */
  rejected: number;
}

export interface HealthSource {
  source: SourceName;
  name: string;
  enabled: boolean;
  found: boolean;
  /** Where it looked, with `~` for the home folder. */
  roots: Array<{ path: string; exists: boolean }>;
  files: number;
  interactions: number;
  first: string | null;
  last: string | null;
  rejectedLines: number;
  reasons: Array<{ path: string; lineNo: number; reason: string }>;
  gaps: string[];
  /** Tokens of this source that were estimated, not reported exactly. */
  estimatedTokens?: number;
  /** Requests received over OTLP (the local OpenTelemetry receiver) that no log file has given yet. */
  viaOtlp?: number;
}

/** The local OpenTelemetry receiver's last status (docs/otel.md), as data health shows it. */
export interface SidebarOtel {
  /** `host:port` it listened on. */
  address: string;
  since: string;
  /** When it stopped; null while it runs. */
  stopped: string | null;
  updated: string;
  bodies: number;
  refused: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  forwardUrl: string | null;
  forwarded: number;
  forwardFailed: number;
}

export interface SidebarHealth {
  sources: HealthSource[];
  ledger: { file: string; bytes: number; firstImport: string | null; lastNewData: string | null };
  linking: { repos: number; unreadRepos: number; note: string | null };
  /** The OpenTelemetry receiver, when it ever ran beside this ledger. */
  otel: SidebarOtel | null;
  /**
   * Why this window's receiver is on in the settings but not listening (its port in use, a bad setting), or null;
   * set by the extension host from the receiver's own state, not read from the ledger.
   */
  otelProblem?: string | null;
}

export interface ScopeOption {
  value: string;
  label: string;
}

export interface SidebarSnapshot {
  /** Increases with every snapshot the host sends; the view acknowledges it in `view/rendered`. */
  seq: number;
  generatedAt: string;
  /** Milliseconds the host spent computing this snapshot. */
  computeMs: number;
  query: SidebarQuery;
  period: ResolvedPeriod;
  timeZone: string;
  pricingVersion: string;
  threshold: number;
  /** The ledger holds no interaction at all: the view shows its first-run guidance instead of figures. */
  empty: boolean;
  figures: Figure[];
  interactions: number;
  sessions: number;
  chart: { unit: 'day' | 'week'; bars: ChartBar[] };
  tasks: { total: number; rows: TaskRow[] };
  decisions: { total: number; rows: DecisionRow[] };
  selfCheck: SelfCheck & { tokens: number };
  health: SidebarHealth;
  scopes: { repos: ScopeOption[]; tasks: ScopeOption[] };
  /** Set when the query could not be used as asked (a bad custom range): what was shown instead, and why. */
  notice: string | null;
}

export type HostMessage =
  | { type: 'host/snapshot'; snapshot: SidebarSnapshot }
  /** The outcome of an action the view asked for, read out by the live region. */
  | { type: 'host/result'; ok: boolean; message: string };
