/**
 * "Verify outcome summary…": a thin shell over services/summary.ts. Loaded on first use
 * (extension.ts imports this module dynamically), so activation does not pay for it.
 *
 * It takes optional arguments so scripts and tests can run it without prompts; without them it asks.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { verifySummary, type Verdict } from '../../services/summary';
import { withRepositories } from '../../services/summaryRepos';
import { argsOf, type CommandDeps } from './deps';

export interface VerifyArgs {
  file?: string;
  /** Also recompute the figures from this window's ledger. */
  ledger?: boolean;
  /** Repositories to look the cited commits up in (`verify --repo`); when absent, the workspace's are offered. */
  repos?: string[];
  /** The fingerprint the signature must be by (`verify --key`). */
  key?: string;
}

/** The workspace folders that are git repositories (a `.git` folder or file): where a summary's commits would be. */
function workspaceRepositories(): string[] {
  return (vscode.workspace.workspaceFolders ?? [])
    .map((f) => f.uri.fsPath)
    .filter((p) => fs.existsSync(path.join(p, '.git')));
}

async function askRepositories(name: string): Promise<string[] | undefined> {
  const repos = workspaceRepositories();
  if (repos.length === 0) return [];
  const picked = await vscode.window.showQuickPick(
    repos.map((r) => ({ label: path.basename(r), description: r, picked: true, repo: r })),
    {
      title: `Verify ${name}: check its cited commits against these repositories? (none picked: not checked)`,
      canPickMany: true,
    },
  );
  return picked?.map((p) => p.repo);
}

export async function verifySummaryCommand({ model }: CommandDeps, raw?: unknown): Promise<Verdict | undefined> {
  const a = argsOf<VerifyArgs>(raw);
  let file = a.file;
  if (!file) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Verify an outcome summary',
      canSelectMany: false,
      filters: { 'Outcome summaries': ['md', 'html', 'json'], 'All files': ['*'] },
    });
    file = picked?.[0]?.fsPath;
  }
  if (!file) return undefined;
  let withLedger = a.ledger;
  if (withLedger === undefined && a.file === undefined) {
    const pick = await vscode.window.showQuickPick(
      [
        {
          label: 'Check the signature and every line',
          detail: 'anyone can do this: was the file edited after export?',
          ledger: false,
        },
        {
          label: 'Also recompute the figures from my ledger',
          detail: 'on the machine that exported it: do the figures match the ledger?',
          ledger: true,
        },
      ],
      { title: `Verify ${path.basename(file)}` },
    );
    if (!pick) return undefined;
    withLedger = pick.ledger;
  }
  let repos = Array.isArray(a.repos) ? a.repos.filter((r): r is string => typeof r === 'string') : undefined;
  if (repos === undefined) {
    repos = await askRepositories(path.basename(file));
    if (repos === undefined) return undefined;
  }
  let text: string;
  try {
    const uri = vscode.Uri.file(file);
    // A summary is a few hundred KB (a year of heavy use: about 1.5 MB); anything far larger is not one.
    if ((await vscode.workspace.fs.stat(uri)).size > 64 << 20) {
      void vscode.window.showErrorMessage(
        `Not verified: ${path.basename(file)} is far larger than any outcome summary.`,
      );
      return undefined;
    }
    text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
  } catch (e) {
    void vscode.window.showErrorMessage(`Cannot read ${file}: ${(e as Error).message}`);
    return undefined;
  }
  const expect = typeof a.key === 'string' && a.key.trim() ? { fingerprint: a.key.trim() } : {};
  const name = path.basename(file);
  let verdict: Verdict | undefined;
  try {
    // In the status bar, not as a toast: VS Code shows at most three toasts within 800 ms and sends the rest to the
    // notification centre, so a progress toast plus the previous verdict would hide this verdict from the user.
    verdict = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Outcome Ledger: verifying ${name}…` },
      async () => {
        let v: Verdict;
        if (withLedger) {
          const ledger = await model.get();
          if (!ledger) return undefined;
          ledger.refresh();
          v = verifySummary(text, { db: ledger.database, ledgerFile: ledger.paths.file, env: process.env }, expect);
        } else {
          v = verifySummary(text, undefined, expect);
        }
        return withRepositories(v, repos ?? []);
      },
    );
  } catch (e) {
    void vscode.window.showErrorMessage(`Cannot verify ${name}: ${(e as Error).message}`);
    return undefined;
  }
  if (!verdict) return undefined;
  const tail = [...verdict.warnings, ...verdict.notChecked].join(' · ');
  if (verdict.ok) {
    const repoCheck = verdict.checks.find((c) => /cited commits? exists?/.test(c));
    void vscode.window.showInformationMessage(
      `Verified: ${name} has not changed since it was signed by the key ${verdict.doc?.signature.fingerprint ?? '?'}${withLedger ? '; every figure matches your ledger' : ''}${repoCheck ? `; ${repoCheck}` : ''}. ${tail}`,
    );
  } else {
    void vscode.window.showErrorMessage(`Not verified: ${name}: ${verdict.problems.join(' · ')}`);
  }
  return verdict;
}
