import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SourceName } from '../core/usage/model';
import { isValidTimeZone, systemTimeZone } from '../core/usage/time';
import type { ExtraSource } from '../services/importer';
import { defaultLedgerHome } from '../store/home';

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
    for (const [source, id] of GLOBAL_STORAGE_SOURCES) extra.push({ source, path: path.join(hostUserDir, 'globalStorage', id) });
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
    identities: c.get<unknown[]>('identities', []).filter((v): v is string => typeof v === 'string' && /^[^\s@<>]+@[^\s@<>]+$/.test(v.trim())).map((v) => v.trim().toLowerCase()),
    storePromptText: c.get<boolean>('storePromptText', false),
    rescanMs: Math.max(10, c.get<number>('rescanIntervalSeconds', 60)) * 1000,
  };
}

/** A time-zone setting that is not an IANA name is reported once instead of silently ignored. */
export function invalidTimeZoneSetting(): string | undefined {
  const tz = vscode.workspace.getConfiguration('outcomeLedger').get<string>('timeZone', '').trim();
  return tz && !isValidTimeZone(tz) ? tz : undefined;
}
