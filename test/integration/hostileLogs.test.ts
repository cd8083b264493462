import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SOURCE_NAMES } from '../../src/core/usage/model';
import { copilotWorkspace, writeCopilotJson } from '../../src/demo/copilot';
import { copilotRequest, writeCursorWorkspaces, writeEveryFixture } from '../fixtures/sources';
import { CLI, cli, reportJson, type HealthJson, type Run } from './cli';
import { daysAgo, HOUR, Logs, startRepo } from './scripted';
import { sandbox } from './sandbox';

/**
 * The sources this test writes logs for: every tool but Roo Code, and no manual entries.
 * Each is read beside its FIFOs, and names its FIFO in data health but Cline, whose FIFO stands where a
 * file is looked up by name.
 */
const WRITTEN = SOURCE_NAMES.filter((s) => s !== 'roo-code' && s !== 'manual');

/** Runs the CLI, killing it after `ms`: a read that blocks on a FIFO shows up as a timeout, not a hung suite. */
function cliBounded(args: string[], env: Record<string, string>, ms: number): Promise<Run & { timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ms);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, timedOut });
    });
  });
}

const mkfifo = (p: string): string => {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  execFileSync('mkfifo', [p]);
  return p;
};

const symlinkTo = (target: string, p: string): string => {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.symlinkSync(target, p);
  return p;
};

/**
 * Issue 12, hostile log folders: a FIFO (directly, through a symlink, and under the names other files are looked
 * up by: Copilot's workspace.json, Cline's task_metadata.json, Continue's sessions.json, Gemini's projects.json) in
 * every source's folder. A plain open would wait for a writer forever while holding the ledger lock.
 */
describe("hostile log folders: FIFOs in every source's folder never hang import (the bundled CLI)", function () {
  this.timeout(180_000);
  const box = sandbox('ol-fifo-');
  let env: Record<string, string>;
  const fifos: string[] = [];

  before(() => {
    const logs = new Logs(box.home);
    const repo = startRepo(box.dir, box.home, Date.parse('2026-03-01T10:00:00Z'));
    const D = daysAgo(2);
    // Real logs for every source, so the test also shows the regular files beside the FIFOs are still read.
    logs.claude({ id: '7ccccccc-0000-4000-8000-000000000001', cwd: repo.dir, start: D, end: D + HOUR });
    logs.codex({ id: '019a00ff-0000-7000-8000-000000000001', cwd: repo.dir, start: D, end: D + HOUR });
    const every = writeEveryFixture(box.dir, box.home, repo.dir);
    const { droid, qwen } = every;
    writeCursorWorkspaces(path.join(box.home, '.config'), repo.dir, ['c-1']);
    const user = path.join(box.home, '.config', 'Code', 'User');
    const chat = copilotWorkspace(user, 'a1b2c3', repo.dir);
    writeCopilotJson(chat, {
      sessionId: 'real',
      creationDate: D,
      requests: [
        copilotRequest(1, { timestamp: D, prompt: 'Fix it', reply: 'Fixed.', promptTokens: 100, outputTokens: 20 }),
      ],
    });

    const pipes = path.join(box.dir, 'pipes');
    const target = (name: string): string => mkfifo(path.join(pipes, name));
    const codexDay = (day: string, name: string): string =>
      path.join(box.home, '.codex', 'sessions', '2026', '01', day, name);
    // Claude Code and Codex: a FIFO and a symlink to one, named like logs.
    fifos.push(mkfifo(path.join(box.home, '.claude', 'projects', '-fifo', 'f1.jsonl')));
    fifos.push(symlinkTo(target('claude'), path.join(box.home, '.claude', 'projects', '-fifo', 'f2.jsonl')));
    fifos.push(
      symlinkTo(
        target('codex'),
        codexDay('01', 'rollout-2026-01-01T00-00-00-019a00ff-0000-7000-8000-00000000ffff.jsonl'),
      ),
    );
    fifos.push(mkfifo(codexDay('02', 'rollout-2026-01-02T00-00-00-019a00ff-0000-7000-8000-00000000fffe.jsonl')));
    // Copilot: a FIFO session, a symlinked one, and a workspace with a FIFO workspace.json beside a real session.
    fifos.push(mkfifo(path.join(chat, 'pipe.json')));
    fifos.push(symlinkTo(target('copilot'), path.join(chat, 'link.jsonl')));
    const chat2 = copilotWorkspace(user, 'd4e5f6', null);
    fifos.push(mkfifo(path.join(path.dirname(chat2), 'workspace.json')));
    writeCopilotJson(chat2, {
      sessionId: 'beside-fifo',
      creationDate: D,
      requests: [copilotRequest(2, { timestamp: D, prompt: 'Hi', reply: 'Hello.', promptTokens: 10, outputTokens: 2 })],
    });
    // Cline: a task whose task_metadata.json and ui_messages.json are FIFOs; state/taskHistory.json a FIFO.
    const tasks = path.join(user, 'globalStorage', 'saoudrizwan.claude-dev', 'tasks');
    fifos.push(mkfifo(path.join(tasks, '1772460999999', 'ui_messages.json')));
    fifos.push(mkfifo(path.join(tasks, '1772460999999', 'task_metadata.json')));
    const realTask = fs.readdirSync(tasks).find((t) => t !== '1772460999999') ?? '';
    fs.rmSync(path.join(tasks, realTask, 'task_metadata.json'), { force: true });
    fifos.push(symlinkTo(target('cline-meta'), path.join(tasks, realTask, 'task_metadata.json')));
    // Gemini CLI: a chat FIFO and a symlinked one.
    const geminiTmp = path.join(box.dir, 'gemini-home', '.gemini', 'tmp');
    const project = fs.readdirSync(geminiTmp).find((p) => fs.existsSync(path.join(geminiTmp, p, 'chats'))) ?? '';
    fifos.push(mkfifo(path.join(geminiTmp, project, 'chats', 'session-2026-01-01T00-00-fifo.json')));
    fifos.push(
      symlinkTo(target('gemini'), path.join(geminiTmp, project, 'chats', 'session-2026-01-01T00-01-link.jsonl')),
    );
    // Continue: a session FIFO and a symlinked one.
    fifos.push(mkfifo(path.join(box.home, '.continue', 'sessions', 'fifo-session.json')));
    fifos.push(symlinkTo(target('continue'), path.join(box.home, '.continue', 'sessions', 'link-session.json')));
    // OpenCode: a message FIFO in its storage folder.
    const storage = path.join(box.dir, 'xdg-data', 'opencode', 'storage', 'message');
    fs.mkdirSync(storage, { recursive: true });
    fifos.push(symlinkTo(target('opencode'), path.join(storage, 'ses_fifo', 'msg_fifo.json')));
    // Aider: the history file of a session's folder is a symlink to a FIFO.
    const other = path.join(box.dir, 'other');
    fifos.push(symlinkTo(target('aider'), path.join(other, '.aider.chat.history.md')));
    // Amp: a thread FIFO and a symlinked one. Droid: a settings FIFO, and a real session whose message log (read for
    // its times) is a FIFO. Qwen Code: a chat FIFO. Kimi CLI: a wire log FIFO, and kimi.json (read for the folders) one.
    const threads = path.join(box.dir, 'xdg-data', 'amp', 'threads');
    fifos.push(mkfifo(path.join(threads, 'T-fifo.json')));
    fifos.push(symlinkTo(target('amp'), path.join(threads, 'T-link.json')));
    const droidDir = path.dirname(droid.files.settings);
    fifos.push(mkfifo(path.join(droidDir, '33333333-4444-4555-8666-777777777777.settings.json')));
    fs.writeFileSync(
      path.join(droidDir, '44444444-5555-4666-8777-888888888888.settings.json'),
      JSON.stringify({ model: 'gpt-5', tokenUsage: { inputTokens: 7, outputTokens: 3 } }),
    );
    fifos.push(mkfifo(path.join(droidDir, '44444444-5555-4666-8777-888888888888.jsonl')));
    fifos.push(mkfifo(path.join(path.dirname(qwen.file), 'fifo-session.jsonl')));
    fifos.push(mkfifo(path.join(box.home, '.kimi', 'sessions', 'f1f0', 'fifo-session', 'wire.jsonl')));
    fs.rmSync(path.join(box.home, '.kimi', 'kimi.json'));
    fifos.push(mkfifo(path.join(box.home, '.kimi', 'kimi.json')));
    // Kiro: a v3 message log and a v2 session FIFO, and a Kiro IDE execution FIFO in its execution store. Amazon Q
    // Developer: an IDE history FIFO. Copilot CLI: an event log FIFO. Cursor: a workspace whose state.vscdb (read for
    // its chat list) is a FIFO.
    fifos.push(mkfifo(path.join(box.home, '.kiro', 'sessions', 'fifo-ws', 'sess_fifo', 'messages.jsonl')));
    fifos.push(mkfifo(path.join(box.home, '.kiro', 'sessions', 'cli', 'k2-fifo.json')));
    const sha32 = (x: string): string => createHash('sha256').update(x).digest('hex').slice(0, 32);
    fifos.push(
      mkfifo(
        path.join(
          box.home,
          '.config',
          'Kiro',
          'User',
          'globalStorage',
          'kiro.kiroagent',
          sha32(repo.dir),
          sha32('chat-agent'),
          'e'.repeat(32),
        ),
      ),
    );
    fifos.push(mkfifo(path.join(box.home, '.aws', 'amazonq', 'history', 'chat-history-fifo.json')));
    fifos.push(mkfifo(path.join(box.home, '.copilot', 'session-state', 's-fifo', 'events.jsonl')));
    fs.mkdirSync(path.join(box.home, '.config', 'Cursor', 'User', 'workspaceStorage', 'e'.repeat(32)), {
      recursive: true,
    });
    fs.writeFileSync(
      path.join(box.home, '.config', 'Cursor', 'User', 'workspaceStorage', 'e'.repeat(32), 'workspace.json'),
      JSON.stringify({ folder: `file://${repo.dir}` }),
    );
    fifos.push(
      mkfifo(path.join(box.home, '.config', 'Cursor', 'User', 'workspaceStorage', 'e'.repeat(32), 'state.vscdb')),
    );
    logs.claude({ id: '7ccccccc-0000-4000-8000-000000000002', cwd: other, start: D, end: D + HOUR });
    env = { ...logs.env(), ...every.env, XDG_CONFIG_HOME: path.join(box.home, '.config') };
  });

  it('import finishes, reads every regular log, names each FIFO it met in data health, and frees the lock', async () => {
    const r = await cliBounded(['import', '--home', box.ledger], env, 90_000);
    assert.equal(r.timedOut, false, `import hung on a FIFO: ${r.stdout}${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    // A second import runs at once: no lock left behind, and still nothing hangs.
    const again = await cliBounded(['import', '--home', box.ledger], env, 60_000);
    assert.equal(again.timedOut, false);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      fs.readdirSync(box.ledger).filter((n) => n.endsWith('.lock')),
      [],
    );
    const report = reportJson(box.ledger, env, ['--no-import', '--since', '2024-01-01', '--until', '2100-01-01']);
    for (const s of WRITTEN) {
      assert.ok(
        (report.bySource.find((x) => x.source === s)?.interactions ?? 0) > 0,
        `${s}: the regular logs beside the FIFOs were read`,
      );
    }
    assert.equal(
      report.bySource.find((x) => x.source === 'droid')?.input,
      5000 + 100 + 7,
      'the Droid session whose message log is a FIFO still counts (dated by its file)',
    );
    const h = cli(['health', '--json', '--home', box.ledger], env);
    assert.equal(h.code, 0, h.stderr);
    const health = JSON.parse(h.stdout) as HealthJson;
    for (const s of WRITTEN.filter((x) => x !== 'cline')) {
      const reasons = health.sources.find((x) => x.source === s)?.reasons ?? [];
      assert.ok(
        reasons.some((x) => /not a regular file \(a named pipe\)/.test(x.reason)),
        `${s} names the FIFO: ${JSON.stringify(reasons)}`,
      );
    }
    // Cursor's FIFO is a workspace database (read for its chat list): the reason says which one.
    const cursorFifo = path.join(
      box.home,
      '.config',
      'Cursor',
      'User',
      'workspaceStorage',
      'e'.repeat(32),
      'state.vscdb',
    );
    assert.ok(
      health.sources
        .find((x) => x.source === 'cursor')
        ?.reasons.some((x) => x.reason === `${cursorFifo}: not a regular file (a named pipe)`),
    );
  });
});
