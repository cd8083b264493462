// Prints the results of the windows like mocha's spec reporter and counts them.
import type { TestResult } from './protocol';

export interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  failures: { title: string; error?: TestResult['error'] | undefined }[];
}

export function printResults(header: string, tests: TestResult[], tally: Tally): void {
  process.stdout.write(`\n  ${header}\n`);
  let prev: string[] = [];
  for (const t of tests) {
    let same = 0;
    while (same < prev.length && same < t.titlePath.length && prev[same] === t.titlePath[same]) same++;
    for (let d = same; d < t.titlePath.length; d++) process.stdout.write(`${'  '.repeat(d + 2)}${t.titlePath[d]}\n`);
    prev = t.titlePath;
    const indent = '  '.repeat(t.titlePath.length + 2);
    const ms = t.durationMs >= 75 ? ` (${t.durationMs} ms)` : '';
    if (t.state === 'passed') {
      tally.passed++;
      process.stdout.write(`${indent}✔ ${t.title}${ms}\n`);
    } else if (t.state === 'pending') {
      tally.skipped++;
      process.stdout.write(`${indent}- ${t.title}\n`);
    } else {
      tally.failed++;
      tally.failures.push({ title: t.fullTitle, error: t.error });
      process.stdout.write(`${indent}${tally.failures.length}) ${t.title}\n`);
    }
  }
}

export function printFailures(tally: Tally): void {
  tally.failures.forEach((f, i) => {
    process.stdout.write(`\n  ${i + 1}) ${f.title}:\n`);
    const body = f.error?.stack ?? f.error?.message ?? '(no error message)';
    process.stdout.write(`${body.replace(/^/gm, '     ')}\n`);
    // Node's assert already puts a diff into multi-line messages; mocha-style expected/actual for the others.
    if (f.error?.expected !== undefined && f.error.actual !== undefined && !f.error.message.includes('\n')) {
      process.stdout.write(
        `     expected: ${f.error.expected.replace(/\n/g, '\n               ')}\n     actual:   ${f.error.actual.replace(/\n/g, '\n               ')}\n`,
      );
    }
  });
}
