import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SourceName } from '../core/usage/model';
import { planOf, PlanError, type Plan } from '../core/usage/plans';
import { isValidTimeZone, systemTimeZone } from '../core/usage/time';
import type { ExtraSource } from '../services/importer';
import { defaultLedgerHome } from '../services/ledger';

export interface Settings {
  ledgerHome: string;
  /** Resolved on first read: the system zone costs an Intl (ICU) load that activation should not pay. */
  readonly timeZone: string;
  disabled: Set<SourceName>;
  extra: ExtraSource[];
  linkThreshold: number;
  /** Author emails that are the engineer's besides their git user.email (docs/outcomes.md); invalid entries dropped. */
  identities: string[];
  storePromptText: boolean;
  rescanMs: number;
  /** `outcomeLedger.prices.aliases`: model names as logged → the model they stand for (beside the home's prices.json). */
  priceAliases: Record<string, string>;
  /** `outcomeLedger.plan` (+ `.monthlyUsd`): undefined when not set (prices.json's plan, if any, applies). */
  plan: Plan | null | undefined;
  /** Why the plan setting was not used (an unknown name, custom without an amount), else undefined. */
  planProblem: string | undefined;
}

const SOURCE_KEYS: ReadonlyArray<[SourceName, string]> = [
  ['claude-code', 'claudeCode'],
  ['codex', 'codex'],
  ['copilot-chat', 'copilotChat'],
  ['gemini-cli', 'geminiCli'],
  ['opencode', 'opencode'],
  ['cline', 'cline'],
  ['roo-code', 'rooCode'],
  ['continue', 'continue'],
  ['aider', 'aider'],
  ['kiro', 'kiro'],
  ['amazon-q', 'amazonQ'],
  ['cursor', 'cursor'],
  ['copilot-cli', 'copilotCli'],
  ['amp', 'amp'],
  ['droid', 'droid'],
  ['qwen-code', 'qwenCode'],
  ['kimi', 'kimi'],
];

/** Sources kept in an extension's global storage inside a VS Code user folder, by that extension's id. */
const GLOBAL_STORAGE_SOURCES: ReadonlyArray<[SourceName, string]> = [
  ['cline', 'saoudrizwan.claude-dev'],
  ['roo-code', 'rooveterinaryinc.roo-cline'],
];

let hostUserDir: string | undefined;

/** The user folder of the VS Code running this extension (derived from its global storage at activation). */
export function setHostUserDir(dir: string): void {
  hostUserDir = dir;
}

function expandHome(p: string): string {
  return p.startsWith('~') ? path.join(process.env.HOME ?? '', p.slice(1)) : p;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('outcomeLedger');
  const home = c.get<string>('ledgerHome', '').trim();
  const tz = c.get<string>('timeZone', '').trim();
  const disabled = new Set<SourceName>();
  const extra: ExtraSource[] = [];
  for (const [source, key] of SOURCE_KEYS) {
    if (!c.get<boolean>(`sources.${key}.enabled`, true)) disabled.add(source);
    for (const p of c.get<string[]>(`sources.${key}.extraPaths`, [])) {
      if (typeof p === 'string' && p.trim()) extra.push({ source, path: path.resolve(expandHome(p.trim())) });
    }
  }
  // Copilot Chat's sessions of this very build of VS Code (Insiders, VSCodium, a portable install, a remote server),
  // wherever its user folder is, beside the platform's usual folders the importer looks in anyway.
  if (hostUserDir && !disabled.has('copilot-chat')) extra.push({ source: 'copilot-chat', path: hostUserDir });
  if (hostUserDir) {
    for (const [source, id] of GLOBAL_STORAGE_SOURCES)
      extra.push({ source, path: path.join(hostUserDir, 'globalStorage', id) });
  }
  let zone: string | undefined;
  return {
    ledgerHome: home ? path.resolve(expandHome(home)) : defaultLedgerHome(),
    get timeZone(): string {
      zone ??= tz && isValidTimeZone(tz) ? tz : systemTimeZone();
      return zone;
    },
    disabled,
    extra,
    linkThreshold: Math.min(1, Math.max(0, c.get<number>('linkThreshold', 0.6))),
    identities: c
      .get<unknown[]>('identities', [])
      .filter((v): v is string => typeof v === 'string' && /^[^\s@<>]+@[^\s@<>]+$/.test(v.trim()))
      .map((v) => v.trim().toLowerCase()),
    storePromptText: c.get<boolean>('storePromptText', false),
    rescanMs: Math.max(10, c.get<number>('rescanIntervalSeconds', 60)) * 1000,
    priceAliases: Object.fromEntries(
      Object.entries(c.get<Record<string, unknown>>('prices.aliases', {}) ?? {}).filter(
        (e): e is [string, string] => typeof e[1] === 'string',
      ),
    ),
    ...planSetting(c),
  };
}

/** The plan settings: `none` or unset → no plan from the settings; a bad value is reported, never guessed. */
function planSetting(c: vscode.WorkspaceConfiguration): {
  plan: Plan | null | undefined;
  planProblem: string | undefined;
} {
  const name = c.get<string>('plan', 'none');
  const monthly = c.get<number | null>('plan.monthlyUsd', null);
  if (typeof name !== 'string' || (name === 'none' && monthly === null))
    return { plan: undefined, planProblem: undefined };
  try {
    return { plan: planOf(name, typeof monthly === 'number' ? monthly : undefined), planProblem: undefined };
  } catch (e) {
    if (!(e instanceof PlanError)) throw e;
    return { plan: undefined, planProblem: `outcomeLedger.plan: ${e.message}` };
  }
}

/** A time-zone setting that is not an IANA name is reported once instead of silently ignored. */
export function invalidTimeZoneSetting(): string | undefined {
  const tz = vscode.workspace.getConfiguration('outcomeLedger').get<string>('timeZone', '').trim();
  return tz && !isValidTimeZone(tz) ? tz : undefined;
}
