import * as path from 'node:path';
import { homeDir } from './walk';

/** VS Code flavours whose user folder may hold extensions' global storage. */
const FLAVOURS = ['Code', 'Code - Insiders', 'VSCodium'];

/**
 * The VS Code user folders of this machine (existing or not): Code, Code - Insiders and VSCodium under the platform's
 * configuration folder (Linux `$XDG_CONFIG_HOME` or `~/.config`, macOS `~/Library/Application Support`, Windows
 * `%APPDATA%`), and the remote-server folders `~/.vscode-server/data/User` (and Insiders').
 */
export function vscodeUserDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string[] {
  const home = homeDir(env);
  let base: string;
  if (platform === 'win32') base = env.APPDATA || path.join(home, 'AppData', 'Roaming');
  else if (platform === 'darwin') base = path.join(home, 'Library', 'Application Support');
  else base = env.XDG_CONFIG_HOME || path.join(home, '.config');
  return [
    ...FLAVOURS.map((f) => path.join(base, f, 'User')),
    path.join(home, '.vscode-server', 'data', 'User'),
    path.join(home, '.vscode-server-insiders', 'data', 'User'),
  ];
}
