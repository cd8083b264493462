import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendClaudeTurn, appendCodexTurn, buildWorld, type World } from '../../src/demo/world';
import { tempDir } from '../helpers';
import { cli, type Run } from './cli';

/** `outcome-ledger import --hook` as Claude Code runs a Stop hook: the payload's JSON on stdin. */
function hook(payload: string, home: string, env: Record<string, string>): Run {
  return cli(['import', '--hook', '--home', home], env, payload);
}

/** Capture after each turn from an assistant's hook: only the named log is read, the rest waits for a full import. */
describe('import --file and --hook: capture of one log, as a hook runs it', function () {
  this.timeout(120_000);
  let dir: string;
  let world: World;
  let home: string;
  let env: Record<string, string>;
  const requests = (): number => {
    const r = cli(['sessions', '--json', '--no-import', '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Array<{ interactions: number }>).reduce((n, s) => n + s.interactions, 0);
  };

  before(() => {
    dir = tempDir('ol-hook-');
    world = buildWorld({ root: path.join(dir, 'world'), seed: 11, repos: 0 });
    home = path.join(dir, 'ledger');
    env = world.env as Record<string, string>;
    const r = cli(['import', '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--file reads the named log only: its new turn is captured, a change in another log waits for the next import', () => {
    const [named, other] = Object.keys(world.state.claude);
    const codex = Object.keys(world.state.codex)[0] ?? '';
    const file = world.state.claude[named ?? '']?.file ?? '';
    const before = requests();
    const captured = appendClaudeTurn(world, named ?? '', { steps: 0 }).length;
    const waiting = appendClaudeTurn(world, other ?? '', { steps: 0 }).length + appendCodexTurn(world, codex).length;
    assert.ok(captured > 0 && waiting > 1);
    const r = cli(['import', '--file', file, '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`claude-code\\s+1/1\\s+${captured}\\b`), `one file read: ${r.stdout}`);
    assert.equal(requests(), before + captured, "the other logs' new turns are not read by a capture of one file");
    assert.equal(cli(['import', '--home', home], env).code, 0);
    assert.equal(
      requests(),
      before + captured + waiting,
      'the next full import reads them, and the captured turn is not counted twice',
    );
  });

  it("--hook takes the file from a Claude Code hook's JSON on stdin", () => {
    const id = Object.keys(world.state.claude)[2] ?? '';
    const file = world.state.claude[id]?.file ?? '';
    const before = requests();
    const added = appendClaudeTurn(world, id, { steps: 0 }).length;
    const payload = JSON.stringify({
      session_id: id,
      transcript_path: file,
      cwd: dir,
      hook_event_name: 'Stop',
      stop_hook_active: false,
    });
    const r = hook(payload, home, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(requests(), before + added);
  });

  it("a new session's log is read alone too; a file outside the tools' folders makes it a full import", () => {
    const ids = Object.keys(world.state.claude);
    const before = requests();
    // A new session: Claude Code's first Stop hook of it names a file the ledger has never seen.
    const source = world.state.claude[ids[3] ?? '']?.file ?? '';
    const fresh = path.join(path.dirname(source), 'a-new-session.jsonl');
    const text = fs.readFileSync(source, 'utf8').replace(/"sessionId":"[^"]+"/g, '"sessionId":"a-new-session"');
    fs.writeFileSync(fresh, text.replace(/"(id|requestId|uuid)":"/g, '"$1":"new-'));
    const waiting = appendClaudeTurn(world, ids[4] ?? '', { steps: 0 }).length;
    let r = cli(['import', '--file', fresh, '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /claude-code\s+1\/1\s/, `only the new file read: ${r.stdout}`);
    const listed = JSON.parse(cli(['sessions', '--json', '--no-import', '--home', home], env).stdout) as Array<{
      sessionId: string;
      interactions: number;
    }>;
    const fresher = listed.find((x) => x.sessionId === 'a-new-session')?.interactions ?? 0;
    assert.ok(fresher > 0, 'the new session is in the ledger');
    assert.equal(requests(), before + fresher, 'its requests are in; the other new turn waits');
    // A copy of a log somewhere else: no tool writes sessions there, so every source is scanned.
    const elsewhere = path.join(dir, 'elsewhere.jsonl');
    fs.copyFileSync(source, elsewhere);
    r = cli(['import', '--file', elsewhere, '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(requests(), before + fresher + waiting, 'the full import read the waiting turn');
  });

  it('a new Codex rollout under sessions/ is read alone; one under archived_sessions/ makes it a full import', () => {
    const source = world.state.codex[Object.keys(world.state.codex)[1] ?? '']?.file ?? '';
    const codexHome = env.CODEX_HOME ?? '';
    const fresh = path.join(
      path.dirname(source),
      'rollout-2026-11-30T10-00-00-0199aaaa-0000-7000-8000-000000000001.jsonl',
    );
    fs.copyFileSync(source, fresh);
    let r = cli(['import', '--file', fresh, '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /codex\s+1\/1\s/, `only the new rollout read: ${r.stdout}`);
    assert.doesNotMatch(r.stdout, /claude-code/, 'no other source looked at');
    const archived = path.join(
      codexHome,
      'archived_sessions',
      path.basename(fresh).replace('0001.jsonl', '0002.jsonl'),
    );
    fs.mkdirSync(path.dirname(archived), { recursive: true });
    fs.copyFileSync(source, archived);
    r = cli(['import', '--file', archived, '--home', home], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /claude-code/, `the full import lists every source: ${r.stdout}`);
  });

  it('a hook payload naming no readable log: one line, exit 1 (a Stop hook takes exit 2 as "keep going")', () => {
    const cases: Array<[payload: string, says: RegExp]> = [
      ['', /nothing on stdin/],
      ['not json', /not JSON/],
      [JSON.stringify({ hook_event_name: 'Stop' }), /no absolute "transcript_path"/],
      [JSON.stringify({ transcript_path: 'relative.jsonl' }), /no absolute "transcript_path"/],
      [JSON.stringify({ transcript_path: path.join(dir, 'gone.jsonl') }), /no readable file at .*gone\.jsonl/],
      [JSON.stringify({ transcript_path: dir }), /not a regular file/],
      [`{"transcript_path": "${'x'.repeat(1 << 20)}"}`, /more than 1 MB/],
    ];
    const before = fs.statSync(path.join(home, 'ledger.sqlite')).mtimeMs;
    for (const [payload, says] of cases) {
      const r = hook(payload, home, env);
      assert.equal(r.code, 1, `${payload.slice(0, 60)}: ${r.stderr}`);
      assert.match(r.stderr, says);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
    assert.equal(fs.statSync(path.join(home, 'ledger.sqlite')).mtimeMs, before, 'nothing written');
  });

  it('--file naming nothing is a usage error (exit 2) when typed by hand', () => {
    const r = cli(['import', '--file', path.join(dir, 'nope.jsonl'), '--home', home], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--file .*nope\.jsonl: no such file/);
  });
});
