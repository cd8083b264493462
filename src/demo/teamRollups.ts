/**
 * Synthetic team rollups for tests and the benchmark: figures that add up like a real ledger's, signed with a real key.
 * (Rollups from real ledgers come from `buildTeamRollup`; these cover thousands of members cheaply.)
 */
import type { SourceName } from '../core/usage/model';
import {
  valueOf,
  zeroFigures,
  signedPart,
  TEAM_ROLLUP_FORMAT,
  TEAM_ROLLUP_VERSION,
  type RollupFigures,
  type TeamRollup,
  type TeamRollupFile,
} from '../core/team/rollup';
import { memberIdOf } from '../services/teamRollup';
import { sha256Hex, type SigningKey } from '../store/signing';
import { Rng } from './rng';

const MODELS: ReadonlyArray<[SourceName, string]> = [
  ['claude-code', 'claude-sonnet-4-5-20250929'],
  ['claude-code', 'claude-opus-4-5-20251101'],
  ['claude-code', 'claude-haiku-4-5-20251001'],
  ['codex', 'gpt-5-codex'],
  ['codex', 'gpt-5'],
];

export interface SyntheticRollupOptions {
  key: SigningKey;
  seed: number;
  machineId?: string;
  since?: string;
  until?: string;
  /** The member's time zone (default UTC). */
  timezone?: string;
  displayName?: string | null;
  /** Models to use (default: a seeded pick of 1 to 4). */
  models?: ReadonlyArray<[SourceName, string]>;
  /** Overrides applied to the rollup before signing (for hostile files that are validly signed). */
  edit?: (r: TeamRollup) => void;
}

function add(a: RollupFigures, b: RollupFigures): void {
  for (const k of Object.keys(a) as Array<keyof RollupFigures>) a[k] = (a[k] ?? 0) + (b[k] ?? 0);
  a.costUSD = Math.round(a.costUSD * 1e6) / 1e6;
}

export function syntheticRollup(o: SyntheticRollupOptions): TeamRollupFile {
  const r = new Rng(o.seed);
  const models = o.models ?? r.shuffle([...MODELS]).slice(0, r.int(1, 4));
  const byModel = models.map(([source, model]) => {
    const input = r.int(1_000, 400_000);
    const output = r.int(1_000, 200_000);
    const cacheRead = r.int(0, 4_000_000);
    const cacheWrite = r.int(0, 300_000);
    const interactions = r.int(5, 400);
    return {
      source,
      model,
      input,
      output,
      cacheRead,
      cacheWrite,
      reasoning: r.int(0, Math.floor(output / 4)),
      total: input + output + cacheRead + cacheWrite,
      costUSD: r.int(1_000, 20_000_000) / 1e6,
      interactions,
      sessions: r.int(1, Math.min(20, interactions)),
      unpricedInteractions: 0,
      estimatedTokens: 0,
    };
  });
  const bySource = new Map<SourceName, RollupFigures>();
  const totals = zeroFigures();
  for (const m of byModel) {
    const { source, model: _model, ...figures } = m;
    void _model;
    const s = bySource.get(source) ?? zeroFigures();
    add(s, figures);
    bySource.set(source, s);
  }
  // A session uses one source but several models may share it: a source's sessions are at most the sum of its rows.
  for (const [source, s] of bySource)
    s.sessions = Math.max(...byModel.filter((m) => m.source === source).map((m) => m.sessions));
  for (const s of bySource.values()) add(totals, s);
  const commits = r.int(0, 40);
  const shipped = Math.floor(totals.total * (0.3 + r.next() * 0.65));
  const without = Math.floor((totals.total - shipped) * r.next());
  const shippedSessions = r.int(0, totals.sessions);
  const openSessions = r.int(0, totals.sessions - shippedSessions);
  const unlinkedSessions = r.int(0, totals.sessions - shippedSessions - openSessions);
  const tasks = Math.min(commits, r.int(0, 20));
  const outcomes = {
    commits,
    tasks,
    prs: r.int(0, commits),
    shippedSessions,
    openSessions,
    unlinkedSessions,
    labelledSessions: totals.sessions - shippedSessions - openSessions - unlinkedSessions,
    shippedTokens: shipped,
    tokensWithoutOutcome: without,
    keptLines: commits > 0 ? r.int(0, 3_000) : 0,
    keptLinesOutput: commits > 0 ? r.int(1, totals.output) : 0,
    pendingCommits: r.int(0, commits),
    taskCostUSD: tasks > 0 ? Math.round(totals.costUSD * r.next() * 1e6) / 1e6 : 0,
  };
  const rollup: TeamRollup = {
    period: { since: o.since ?? '2026-11-01', until: o.until ?? '2026-11-30', timezone: o.timezone ?? 'UTC' },
    member: { id: memberIdOf(o.key.publicKey), displayName: o.displayName ?? null },
    machine: { id: o.machineId ?? sha256Hex(`machine ${o.seed}`).slice(0, 32) },
    generatedAt: new Date(Date.UTC(2026, 11, 1) + o.seed * 1000).toISOString(),
    pricing: { version: '2026-11-25.1' },
    interactions: { count: totals.interactions, digest: sha256Hex(`interactions ${o.seed}`) },
    totals,
    bySource: [...bySource].map(([source, s]) => ({ source, ...s })),
    byModel,
    outcomes,
    value: valueOf(totals, outcomes),
  };
  o.edit?.(rollup);
  const unsigned = { format: TEAM_ROLLUP_FORMAT, version: TEAM_ROLLUP_VERSION, rollup } as const;
  return { ...unsigned, signature: o.key.signCanonical(signedPart(unsigned)) };
}
