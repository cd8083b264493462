/**
 * The world as returned: where everything is, the environment to import it with, and its truth.
 */
import * as path from 'node:path';
import type { World } from './types';
import type { Builder } from './builder';

export function finishWorld(b: Builder, t0: number): World {
  const sessions = [...b.sessions.values()].sort((a, b) => a.start - b.start || a.sessionId.localeCompare(b.sessionId));
  b.interactions.sort((a, b) => a.timestamp - b.timestamp);
  const repos = b.git ? b.projects.map((p) => p.dir) : [];
  return {
    root: b.root,
    home: b.home,
    env: {
      HOME: b.home,
      XDG_CONFIG_HOME: path.join(b.home, '.config'),
      XDG_DATA_HOME: path.join(b.home, '.local', 'share'),
      CLAUDE_CONFIG_DIR: b.claudeRoots.join(','),
      CODEX_HOME: b.codexHome,
      TZ: 'UTC',
    },
    claudeRoots: b.claudeRoots,
    codexHome: b.codexHome,
    repos,
    start: b.ws,
    end: b.end,
    truth: {
      interactions: b.interactions,
      sessions,
      commits: b.git ? [...b.git.commits].sort((a, b) => a.time - b.time) : [],
      badLines: b.badLineDetails.length,
      badLineDetails: b.badLineDetails,
      traps: b.traps,
    },
    files: b.sink.files,
    bytes: b.sink.bytes,
    buildMs: Date.now() - t0,
    state: b.state,
  };
}
