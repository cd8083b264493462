import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld } from '../src/demo/world';
import type { LinkSummary } from '../src/services/linker';
import type { SessionJson } from '../src/services/queries';
import { Ledger } from '../src/store/ledger';
import type { Figure } from './import';
import { measureOk, median, type Measured } from './measure';
import { addCommit, buildSynthetic, writeSessions, type SyntheticSession } from './synthetic';

/**
 * Linking: how right (precision and recall of counted links against generators that know the truth) and how fast
 * (a cold link of 5,000 sessions against 10,000 commits, a re-link after one new commit, a run where nothing moved).
 */
export interface LinkBenchOptions {
  workDir: string;
  cli: string;
  /** Seeds of the demo worlds (src/demo/world.ts) whose truth.commits say which session made which commit. */
  seeds: number[];
  sessions: number;
  commits: number;
  runs: number;
}

interface Score {
  truth: number;
  counted: number;
  correct: number;
  /** Counted links of sessions the truth says produced nothing. */
  nothingShipped: number;
}

function score(truth: ReadonlySet<string>, producers: ReadonlySet<string>, sessions: readonly SessionJson[]): Score {
  let counted = 0;
  let correct = 0;
  let nothingShipped = 0;
  for (const s of sessions) {
    for (const l of s.links) {
      if (!l.counted) continue;
      counted++;
      if (truth.has(`${s.sessionId} ${l.commit}`)) correct++;
      if (!producers.has(s.sessionId)) nothingShipped++;
    }
  }
  return { truth: truth.size, counted, correct, nothingShipped };
}

/** The CLI's command, measured; a failure stops the bench with its own words. */
function runOk(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
  return measureOk(process.execPath, [cli, ...args], env);
}

function add(a: Score, b: Score): Score {
  return {
    truth: a.truth + b.truth,
    counted: a.counted + b.counted,
    correct: a.correct + b.correct,
    nothingShipped: a.nothingShipped + b.nothingShipped,
  };
}

function ratio(n: number, d: number): number {
  return d === 0 ? 1 : Math.round((n / d) * 10_000) / 10_000;
}

export async function linkBench(o: LinkBenchOptions, log: (s: string) => void): Promise<Figure[]> {
  fs.rmSync(o.workDir, { recursive: true, force: true });
  fs.mkdirSync(o.workDir, { recursive: true });
  const figures: Figure[] = [];

  // 1. Demo worlds: real repositories built with git, real Claude Code and Codex logs, the truth of every commit.
  let demo: Score = { truth: 0, counted: 0, correct: 0, nothingShipped: 0 };
  for (const seed of o.seeds) {
    const root = path.join(o.workDir, `world-${seed}`);
    const world = buildWorld({ root: path.join(root, 'world'), seed, claudeSessions: 40, codexSessions: 20 });
    const env = { PATH: process.env.PATH ?? '', ...world.env, OUTCOME_LEDGER_HOME: path.join(root, 'ledger') };
    await runOk(o.cli, ['import'], env);
    await runOk(o.cli, ['link'], env);
    const sessions = JSON.parse(
      (await runOk(o.cli, ['sessions', '--json', '--no-import'], env)).stdout,
    ) as SessionJson[];
    const truth = new Set<string>();
    const producers = new Set<string>();
    for (const c of world.truth.commits) {
      for (const id of c.sessionIds) {
        truth.add(`${id} ${c.sha}`);
        producers.add(id);
      }
    }
    const s = score(truth, producers, sessions);
    log(
      `  demo world seed ${seed}: ${world.truth.sessions.length} sessions, ${world.truth.commits.length} commits; ${s.correct} of ${s.counted} counted links right, ${s.correct} of ${s.truth} true links found`,
    );
    demo = add(demo, s);
    fs.rmSync(root, { recursive: true, force: true });
  }
  const p = ratio(demo.correct, demo.counted);
  const r = ratio(demo.correct, demo.truth);
  figures.push({
    name: `precision of counted links (demo worlds, seeds ${o.seeds.join(',')})`,
    value: p,
    unit: '',
    target: '≥ 0.95',
    pass: p >= 0.95,
  });
  figures.push({
    name: 'recall of counted links (demo worlds)',
    value: r,
    unit: '',
    target: '≥ 0.95',
    pass: r >= 0.95,
  });
  figures.push({
    name: 'counted links of sessions that shipped nothing (demo worlds)',
    value: demo.nothingShipped,
    unit: '',
    target: '0',
    pass: demo.nothingShipped === 0,
  });

  // 2. A large history: 10,000 commits (git fast-import), 5,000 sessions in the ledger.
  const dir = path.join(o.workDir, 'synthetic');
  fs.mkdirSync(dir, { recursive: true });
  const end = Date.now() - 2 * 3_600_000;
  const world = buildSynthetic({
    dir,
    seed: 2026,
    sessions: o.sessions,
    commits: o.commits,
    days: 180,
    files: 600,
    end,
  });
  log(
    `  synthetic history: ${world.commits} commits (fast-import), ${world.sessions.length} sessions, built in ${(world.buildMs / 1000).toFixed(1)} s`,
  );
  const home = path.join(dir, 'ledger');
  const ledger = await Ledger.open(home);
  await writeSessions(ledger, world, dir);
  ledger.close();
  // No log sources in this home: `report` imports nothing, so what it costs beyond the no-import run is linking.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    CLAUDE_CONFIG_DIR: path.join(dir, 'none'),
    CODEX_HOME: path.join(dir, 'none'),
    OUTCOME_LEDGER_HOME: home,
  };
  const cold = await runOk(o.cli, ['link', '--no-durability', '--json'], env);
  const read = (JSON.parse(cold.stdout) as LinkSummary).repos.reduce((n, r) => n + r.commitsRead, 0);
  log(
    `  cold link: ${cold.ms.toFixed(0)} ms, peak ${cold.peakMB.toFixed(0)} MB, ${read} commits read (the rest were squashed or rebased away)`,
  );
  figures.push({
    name: `cold link, ${world.sessions.length} sessions × ${read} commits (\`link\` from a fresh process)`,
    value: Math.round(cold.ms),
    unit: 'ms',
    target: '≤ 5000 ms',
    pass: cold.ms <= 5000,
  });
  figures.push({ name: 'peak memory of the cold link', value: Math.round(cold.peakMB), unit: 'MB' });
  const sessions = JSON.parse((await runOk(o.cli, ['sessions', '--json', '--no-import'], env)).stdout) as SessionJson[];
  const producers = new Set([...world.truth].map((t) => t.split(' ')[0] as string));
  const big = score(world.truth, producers, sessions);
  figures.push({
    name: 'precision of counted links (synthetic history)',
    value: ratio(big.correct, big.counted),
    unit: '',
    target: '≥ 0.95',
    pass: ratio(big.correct, big.counted) >= 0.95,
  });
  figures.push({
    name: 'recall of counted links (synthetic history)',
    value: ratio(big.correct, big.truth),
    unit: '',
    target: '≥ 0.95',
    pass: ratio(big.correct, big.truth) >= 0.95,
  });
  figures.push({
    name: 'counted links of sessions that shipped nothing (synthetic)',
    value: big.nothingShipped,
    unit: '',
    target: 'few (abandoned edits on shared files)',
  });

  const durability = await runOk(o.cli, ['link'], env);
  log(`  first durability pass (git blame of every file linked commits touched): ${durability.ms.toFixed(0)} ms`);
  figures.push({
    name: 'first durability pass (git blame, once per history)',
    value: Math.round(durability.ms),
    unit: 'ms',
  });

  const unchanged: number[] = [];
  for (let i = 0; i < o.runs; i++) unchanged.push((await runOk(o.cli, ['link'], env)).ms);
  figures.push({ name: 'link when nothing moved', value: Math.round(median(unchanged)), unit: 'ms' });

  // One more session and the commit it made, then a re-link (what the extension does after a commit).
  const relink: number[] = [];
  let linkedNew = true;
  for (let i = 0; i < o.runs; i++) {
    const t = Date.now() - 30 * 60_000 + i * 60_000;
    const file = `src/mod${i + 1}/mod${i + 1}-1.ts`;
    const s: SyntheticSession = {
      id: `bench-new-${i}-${Date.now()}`,
      source: 'claude-code',
      start: t - 20 * 60_000,
      end: t - 5 * 60_000,
      branch: 'main',
      files: [file],
      kind: 'trunk',
    };
    world.sessions.push(s);
    const l = await Ledger.open(home);
    await writeSessions(l, world, dir, [s]);
    l.close();
    const sha = addCommit(world, file, t, `Finish mod${i + 1}\n`);
    const m = await runOk(o.cli, ['link'], env);
    relink.push(m.ms);
    const after = JSON.parse(
      (
        await runOk(
          o.cli,
          ['sessions', '--json', '--no-import', '--since', new Date(t).toISOString().slice(0, 10)],
          env,
        )
      ).stdout,
    ) as SessionJson[];
    linkedNew &&= after.some((x) => x.sessionId === s.id && x.links.some((k) => k.counted && k.commit === sha));
  }
  const relinkMs = median(relink);
  log(`  re-link after one new commit: ${relink.map((x) => x.toFixed(0)).join(', ')} ms`);
  figures.push({
    name: 're-link after one new commit (`link`, incl. durability of what it touched)',
    value: Math.round(relinkMs),
    unit: 'ms',
    target: '≤ 300 ms',
    pass: relinkMs <= 300,
  });
  figures.push({
    name: 'the new commit is linked to its session',
    value: linkedNew ? 1 : 0,
    unit: 'bool',
    target: '1',
    pass: linkedNew,
  });

  const plain: number[] = [];
  const linked: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    plain.push((await runOk(o.cli, ['report', '--json', '--no-import'], env)).ms);
    linked.push((await runOk(o.cli, ['report', '--json'], env)).ms);
  }
  figures.push({
    name: `report --json with outcomes (${world.sessions.length} sessions, no import/link)`,
    value: Math.round(median(plain)),
    unit: 'ms',
  });
  figures.push({
    name: 'report --json importing and linking first, nothing new',
    value: Math.round(median(linked)),
    unit: 'ms',
  });
  const bytes = fs.statSync(path.join(home, 'ledger.sqlite')).size;
  figures.push({
    name: 'ledger size (5,000 sessions, 10,000 commits, links)',
    value: Math.round(bytes / 1e5) / 10,
    unit: 'MB',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  return figures;
}
