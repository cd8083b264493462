import * as path from 'node:path';
import { platformBase } from './platform';
import { homeDir } from './walk';

/** VS Code flavours whose user folder may hold extensions' global storage and chat sessions. */
const FLAVOURS = ['Code', 'Code - Insiders', 'VSCodium', 'VSCodium - Insiders', 'Code - OSS'];
/** Remote-server data folders (SSH, WSL, containers, tunnels): `~/<folder>/data/User`. */
const SERVERS = ['.vscode-server', '.vscode-server-insiders', '.vscodium-server', '.vscode-remote'];

/**
 * The VS Code user folders of this machine (existing or not): every flavour under the platform's configuration folder
 * (Linux `$XDG_CONFIG_HOME` or `~/.config`, macOS `~/Library/Application Support`, Windows `%APPDATA%`), then the
 * remote-server folders (`~/.vscode-server/data/User` and the like).
 */
export function vscodeUserDirs(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string[] {
  const home = homeDir(env);
  const base = platformBase('config', env, platform);
  return [
    ...FLAVOURS.map((f) => path.join(base, f, 'User')),
    ...SERVERS.map((s) => path.join(home, s, 'data', 'User')),
  ];
}
