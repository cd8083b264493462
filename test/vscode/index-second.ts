// Entry module of the second window: runs out/test/vscode/second/** while the main window runs its suites, on the
// same ledger. The harness opens this window only when that folder has tests.
import { runSuites } from './runner';

export function run(): Promise<void> {
  return runSuites('second');
}
