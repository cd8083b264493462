import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { ReportJson } from '../../src/core/outcomes/report';
import type { SessionJson } from '../../src/services/queries';

export const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real bundled CLI (dist/cli.js) as a user would. */
export function cli(args: string[], env: Record<string, string>): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function reportJson(home: string, env: Record<string, string>, extra: string[] = []): ReportJson {
  const r = cli(['report', '--json', '--home', home, ...extra], env);
  if (r.code !== 0) throw new Error(`report failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReportJson;
}

export function sessionsJson(home: string, env: Record<string, string>): SessionJson[] {
  const r = cli(['sessions', '--json', '--home', home], env);
  if (r.code !== 0) throw new Error(`sessions failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as SessionJson[];
}
