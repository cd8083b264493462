// Writes Claude Code and Codex logs in their real on-disk formats for the tests inside VS Code (the same shapes as
// docs/sources.md and the demo world generator): one line per content block, usage repeated on each.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ClaudeTurn {
  model?: string;
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  /** Absolute paths the assistant edits in this turn. */
  edits?: string[];
  at?: Date;
}

export interface WrittenSession {
  sessionId: string;
  file: string;
  /** Canonical total of all turns written (input + output + cache read + cache write). */
  total: number;
}

function encodeProject(p: string): string {
  return p.replace(/[^a-zA-Z0-9]/g, '-');
}

/** Appends turns (complete lines) to `<claudeConfigDir>/projects/<enc>/<sessionId>.jsonl`; creates it when new. */
export function writeClaudeTurns(
  claudeConfigDir: string,
  opts: { sessionId?: string; cwd: string; branch?: string; turns: ClaudeTurn[] },
): WrittenSession {
  const sessionId = opts.sessionId ?? randomUUID();
  const dir = path.join(claudeConfigDir, 'projects', encodeProject(opts.cwd));
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${sessionId}.jsonl`);
  const lines: string[] = [];
  let total = 0;
  for (const turn of opts.turns) {
    const at = (turn.at ?? new Date()).toISOString();
    const base = {
      parentUuid: null,
      isSidechain: false,
      userType: 'external',
      cwd: opts.cwd,
      sessionId,
      version: '2.0.42',
      gitBranch: opts.branch ?? 'main',
    };
    lines.push(
      JSON.stringify({
        ...base,
        type: 'user',
        message: { role: 'user', content: 'please make the change' },
        uuid: randomUUID(),
        timestamp: at,
      }),
    );
    const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
    const requestId = `req_${randomUUID().replace(/-/g, '')}`;
    const usage = {
      input_tokens: turn.input,
      output_tokens: turn.output,
      cache_read_input_tokens: turn.cacheRead ?? 0,
      cache_creation_input_tokens: turn.cacheWrite ?? 0,
      service_tier: 'standard',
    };
    const blocks: unknown[] = [{ type: 'text', text: 'Working on it.' }];
    for (const file of turn.edits ?? [])
      blocks.push({
        type: 'tool_use',
        id: `toolu_${randomUUID().slice(0, 8)}`,
        name: 'Edit',
        input: { file_path: file, old_string: 'a', new_string: 'b' },
      });
    for (const block of blocks) {
      lines.push(
        JSON.stringify({
          ...base,
          message: {
            id: messageId,
            type: 'message',
            role: 'assistant',
            model: turn.model ?? 'claude-sonnet-4-5-20250929',
            content: [block],
            stop_reason: null,
            usage,
          },
          requestId,
          type: 'assistant',
          uuid: randomUUID(),
          timestamp: at,
        }),
      );
    }
    total += turn.input + turn.output + (turn.cacheRead ?? 0) + (turn.cacheWrite ?? 0);
  }
  fs.appendFileSync(file, `${lines.join('\n')}\n`);
  return { sessionId, file, total };
}

/** A session of one Claude Code turn in `workspace`, `minutesAgo` minutes ago, that edits `file` (relative to it). */
export function writeEditTurn(
  claudeConfigDir: string,
  workspace: string,
  o: { branch: string; file: string; minutesAgo: number } & Omit<ClaudeTurn, 'edits' | 'at'>,
): WrittenSession {
  const { branch, file, minutesAgo, ...figures } = o;
  return writeClaudeTurns(claudeConfigDir, {
    cwd: workspace,
    branch,
    turns: [{ ...figures, edits: [path.join(workspace, file)], at: new Date(Date.now() - minutesAgo * 60_000) }],
  });
}
