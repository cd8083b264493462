import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Figure } from './import';
import { median } from './measure';

/**
 * Activation time of the extension in the real VS Code (code-server 4.99.4, VS Code 1.99.3): bundle evaluation +
 * activate() call, as the extension measures itself and the activation test writes to test-artifacts/activation.json.
 */
export function activationBench(root: string, runs: number, log: (s: string) => void): Figure[] {
  const setup = spawnSync(process.execPath, [path.join(root, 'scripts', 'vscode-setup.mjs')], { stdio: 'inherit' });
  if (setup.status !== 0) {
    log('  VS Code tier not available (setup failed): activation not measured');
    return [];
  }
  const file = path.join(root, 'test-artifacts', 'activation.json');
  const values: number[] = [];
  for (let i = 0; i < runs; i++) {
    fs.rmSync(file, { force: true });
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'out', 'test', 'vscode', 'harness.js'), '--grep', 'activates without', '--no-ui'],
      { encoding: 'utf8' },
    );
    if (r.status !== 0 || !fs.existsSync(file)) {
      log(`  activation run ${i + 1} failed:\n${r.stdout}${r.stderr}`);
      continue;
    }
    const ms = (JSON.parse(fs.readFileSync(file, 'utf8')) as { activationMs: number }).activationMs;
    values.push(ms);
    log(`  activation run ${i + 1}: ${ms.toFixed(1)} ms`);
  }
  if (values.length === 0) return [];
  const m = median(values);
  return [
    {
      name: `extension activation in VS Code 1.99 (median of ${values.length})`,
      value: Math.round(m * 10) / 10,
      unit: 'ms',
      target: '< 50 ms',
      pass: m < 50,
    },
    { name: 'extension activation, slowest run', value: Math.round(Math.max(...values) * 10) / 10, unit: 'ms' },
  ];
}
