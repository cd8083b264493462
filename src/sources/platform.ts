import * as path from 'node:path';
import { homeDir } from './walk';

/**
 * Where desktop tools keep their files on this platform. `config`: VS Code-style application folders (Linux
 * `$XDG_CONFIG_HOME` or `~/.config`, macOS `~/Library/Application Support`, Windows `%APPDATA%`); `data`: data folders
 * of command-line tools built on the `dirs` conventions (Linux `$XDG_DATA_HOME` or `~/.local/share`, macOS
 * `~/Library/Application Support`, Windows `%LOCALAPPDATA%`).
 */
export function platformBase(
  kind: 'config' | 'data',
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string {
  const home = homeDir(env);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support');
  if (platform === 'win32') {
    return kind === 'config'
      ? env.APPDATA || path.join(home, 'AppData', 'Roaming')
      : env.LOCALAPPDATA || path.join(home, 'AppData', 'Local');
  }
  const xdg = kind === 'config' ? env.XDG_CONFIG_HOME : env.XDG_DATA_HOME;
  return xdg && xdg.trim() ? xdg.trim() : path.join(home, kind === 'config' ? '.config' : path.join('.local', 'share'));
}
