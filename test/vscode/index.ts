// Entry module of the main window (extensionTestsPath): VS Code calls run() inside the extension host.
import { runSuites } from './runner';

export function run(): Promise<void> {
  return runSuites('main');
}
