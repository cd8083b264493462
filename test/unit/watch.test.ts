import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copilotWorkspace, writeCopilotJson, writeCopilotJsonl } from '../../src/demo/copilot';
import { READERS, sourceRoots, watchTargets, type ExtraSource, type WatchTarget } from '../../src/services/importer';
import { AIDER_HISTORY } from '../../src/sources/aider';
import { writeCopilotTraces, writeEveryFixture } from '../fixtures/sources';
import { repoFolder, tempDir } from '../helpers';

/** The watch target that reports a change of `file`, if any (as the extension's watchers see it). */
function watcherOf(targets: WatchTarget[], file: string): WatchTarget | undefined {
  return targets.find((t) => {
    const rel = path.relative(t.dir, file);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
    return (t.recursive || !rel.includes(path.sep)) && t.accepts(rel);
  });
}

describe('Live capture: what the extension watches', () => {
  let dir: string;
  let home: string;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = tempDir('ol-watch-');
    home = path.join(dir, 'home');
    repo = repoFolder(path.join(dir, 'app'));
    env = writeEveryFixture(dir, home, repo).env;
    const chat = copilotWorkspace(path.join(home, '.config', 'Code', 'User'), 'ws1', repo);
    const T0 = Date.parse('2026-10-05T09:00:00Z');
    const req = {
      requestId: 'r1',
      timestamp: T0,
      modelId: 'copilot/gpt-4.1',
      prompt: 'p',
      reply: 'r',
      promptTokens: 10,
      outputTokens: 2,
      style: 'metadata' as const,
    };
    writeCopilotJsonl(chat, { sessionId: 'a', creationDate: T0, requests: [req] });
    writeCopilotJson(chat, { sessionId: 'b', creationDate: T0, requests: [{ ...req, requestId: 'r2' }] });
    writeCopilotTraces(path.join(home, '.config', 'Code', 'User'), [
      { spanId: 's1', session: 'a', start: T0 + 1000, input: 10, output: 2 },
    ]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a change to any log file of every source (and its companions) reaches a watcher, the workspace folder's Aider history included", () => {
    const targets = watchTargets(env, [], new Set(), [repo]);
    const roots = sourceRoots(env);
    let checked = 0;
    for (const reader of READERS) {
      const files = [
        ...reader.discover(roots.get(reader.source) ?? []),
        ...(reader.discoverInProjects?.([repo]) ?? []),
      ];
      if (reader.source === 'claude-code' || reader.source === 'codex') continue; // their own suites write those
      assert.ok(files.length > 0, `the fixture has ${reader.source} files`);
      for (const f of files) {
        for (const p of [f.path, ...(f.companions ?? [])]) {
          assert.ok(watcherOf(targets, p), `${reader.source}: no watcher reports a change of ${p}`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 15, String(checked));
  });

  it("Cursor's busy user folder is not watched whole: only its global state database and its write-ahead log", () => {
    const targets = watchTargets(env);
    const user = path.join(home, '.config', 'Cursor', 'User');
    assert.ok(watcherOf(targets, path.join(user, 'globalStorage', 'state.vscdb-wal')));
    assert.equal(watcherOf(targets, path.join(user, 'workspaceStorage', 'abc', 'state.vscdb')), undefined);
    assert.equal(watcherOf(targets, path.join(user, 'globalStorage', 'other.json')), undefined);
  });

  it("Copilot CLI's OTel export named by $COPILOT_OTEL_FILE_EXPORTER_PATH is watched as that one file", () => {
    const file = path.join(dir, 'telemetry', 'copilot.jsonl');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
    const targets = watchTargets({ ...env, COPILOT_OTEL_FILE_EXPORTER_PATH: file });
    assert.ok(watcherOf(targets, file));
    assert.equal(watcherOf(targets, path.join(dir, 'telemetry', 'other.jsonl')), undefined);
  });

  it('watches a repository for its Aider history only, never its whole tree; a disabled Aider is not watched', () => {
    const targets = watchTargets(env, [], new Set(), [path.join(repo, 'src')]);
    const onRepo = targets.filter((t) => t.dir === repo || t.dir === path.join(repo, 'src'));
    // the folder given and the repository it is in, each for its own history file
    assert.deepEqual(
      onRepo.map((t) => [t.dir, t.glob, t.recursive]).sort(),
      [
        [repo, AIDER_HISTORY, false],
        [path.join(repo, 'src'), AIDER_HISTORY, false],
      ].sort(),
    );
    assert.ok(!watcherOf(targets, path.join(repo, 'src', 'main.py')));
    assert.ok(!watcherOf(targets, path.join(repo, 'notes.md')));
    const off = watchTargets(env, [], new Set(['aider']), [repo]);
    assert.equal(watcherOf(off, path.join(repo, AIDER_HISTORY)), undefined);
  });

  it('an Aider extra path (a folder of repositories, or the history file itself) is watched for those histories', () => {
    const extra: ExtraSource[] = [{ source: 'aider', path: dir }];
    const targets = watchTargets(env, extra);
    assert.ok(watcherOf(targets, path.join(repo, AIDER_HISTORY)), 'the history one level down');
    const other = path.join(dir, 'elsewhere', 'proj', AIDER_HISTORY);
    fs.mkdirSync(path.dirname(other), { recursive: true });
    fs.writeFileSync(other, '');
    assert.ok(
      watcherOf(watchTargets(env, [{ source: 'aider', path: other }]), other),
      'the history file named directly',
    );
    const custom = path.join(dir, 'elsewhere', 'proj', 'my-chat.md'); // aider --chat-history-file my-chat.md
    fs.writeFileSync(custom, '');
    const t = watchTargets(env, [{ source: 'aider', path: custom }]);
    assert.ok(watcherOf(t, custom), 'a history file with another name, named directly');
    assert.ok(!watcherOf(t, path.join(dir, 'elsewhere', 'proj', 'notes.md')));
  });
});
