import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { quantile, TeamMerger, type TeamReportJson } from '../../src/core/team/merge';
import type { SourceName } from '../../src/core/usage/model';
import { parseTeamRollup, type TeamRollup, type TeamRollupFile } from '../../src/core/team/rollup';
import { renderRollupPreview } from '../../src/core/team/preview';
import { Rng } from '../../src/demo/rng';
import { renderTeamHtml, renderTeamMarkdown } from '../../src/core/team/render';
import { htmlText, mdText } from '../../src/core/common/text';
import { syntheticRollup } from '../../src/demo/teamRollups';
import { checkTeamRollupText, mergeTeamRollups, mergeTeamRollupsAsync } from '../../src/services/teamRollup';
import { loadOrCreateSigningKey, type SigningKey } from '../../src/store/signing';
import { tempDir } from '../helpers';

const keys: SigningKey[] = [];
function key(i: number): SigningKey {
  keys[i] ??= loadOrCreateSigningKey(tempDir('ol-key-'));
  return keys[i] as SigningKey;
}

const text = (f: TeamRollupFile | unknown): string => `${JSON.stringify(f, null, 2)}\n`;

describe('team rollup files', () => {
  it('a synthetic rollup passes every check; the schema, signature and member id are all checked', () => {
    const f = syntheticRollup({ key: key(0), seed: 1 });
    const ok = checkTeamRollupText(text(f));
    assert.ok(ok.ok, ok.ok ? '' : ok.reason);
    const other = syntheticRollup({ key: key(1), seed: 1, edit: (r) => (r.member.id = `m-${'0'.repeat(16)}`) });
    const bad = checkTeamRollupText(text(other));
    assert.ok(!bad.ok && /member id m-0+ does not belong to the key that signed it/.test(bad.reason));
  });

  it('refuses a battery of hostile files, each with a one-line reason, while the good ones still merge (in one thread and in worker threads)', async () => {
    const dir = tempDir('ol-hostile-');
    const good = [0, 1, 2].map((i) =>
      syntheticRollup({ key: key(i), seed: 10 + i, displayName: `Good ${['Ana', 'Bo', 'Chiara'][i]}` }),
    );
    good.forEach((f, i) => fs.writeFileSync(path.join(dir, `good-${i}.json`), text(f)));
    const base = text(syntheticRollup({ key: key(3), seed: 20 }));
    const signed = (edit: Parameters<typeof syntheticRollup>[0]['edit']): string =>
      text(syntheticRollup({ key: key(3), seed: 20, edit }));
    const hostile: Record<string, [string | Buffer, RegExp]> = {
      'oversized.json': [base + ' '.repeat(2 << 20), /^too large \(2\.\d MB; a rollup is at most 1024 KB\)$/],
      'not-json.json': ['hello, team lead', /^not JSON/],
      'not-utf8.json': [Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), /^not UTF-8 text$/],
      'array.json': ['[1,2,3]', /^not an Outcome Ledger team rollup/],
      'other-format.json': [
        '{"format":"something-else","version":1}',
        /^not an Outcome Ledger team rollup \(format "something-else"\)/,
      ],
      'wrong-version.json': [
        base.replace('"version": 1', '"version": 2'),
        /^rollup version 2 is not supported \(this build reads version 1; update Outcome Ledger\)$/,
      ],
      'bad-signature.json': [
        base.replace(/"value": "[^"]+"/, `"value": "${Buffer.alloc(64, 7).toString('base64')}"`),
        /^signature: the signature does not match the content/,
      ],
      'edited-figure.json': [
        base.replace(/"commits": \d+/, '"commits": 999'),
        /^signature: the signature does not match the content: the file was changed after it was signed/,
      ],
      'edited-name.json': [base.replace('"displayName": null', '"displayName": "Someone else"'), /^signature: /],
      'proto.json': [
        base.replace('"rollup": {', '"rollup": {\n"__proto__": {"polluted": true},'),
        /^has a "__proto__" key, which no rollup has \(refused as a prototype-pollution attempt\)$/,
      ],
      'constructor.json': [
        base.replace('"totals": {', '"totals": {"constructor": {"prototype": {"polluted": true}},'),
        /^has a "constructor" key/,
      ],
      'nan.json': [base.replace(/"input": \d+/, '"input": NaN'), /^not JSON/],
      'infinity.json': [
        base.replace(/"input": \d+/, '"input": 1e999'),
        /^invalid: rollup\.totals\.input: not a finite number$/,
      ],
      'negative.json': [
        signed((r) => {
          r.byModel[0]!.input = -5;
        }),
        /^invalid: rollup\.byModel\[0\]\.input: below 0$/,
      ],
      'absurd.json': [
        base.replace(/"output": \d+/, '"output": 1e308'),
        /^invalid: rollup\.totals\.output: above the limit /,
      ],
      'fraction.json': [
        base.replace(/"sessions": \d+/, '"sessions": 1.5'),
        /^invalid: rollup\.totals\.sessions: not a whole number$/,
      ],
      'bad-date.json': [
        base.replace(/"since": "[^"]+"/, '"since": "last week"'),
        /^invalid: rollup\.period\.since: not in the expected format$/,
      ],
      'no-such-day.json': [
        signed((r) => {
          r.period.until = '2026-02-30';
        }),
        /^invalid: rollup\.period\.until: 2026-02-30 is not a calendar date$/,
      ],
      'unknown-tool.json': [
        base.replace(/"source": "[^"]+"/, '"source": "skynet"'),
        /^invalid: rollup\.bySource\[0\]\.source: expected "claude-code" or "codex"/,
      ],
      // A figure a reader sees and another that JSON.parse keeps (the last): refused, even though the signature holds.
      'duplicate-key.json': [
        base.replace(/"commits": (\d+)/, '"commits": 99999, "commits": $1'),
        /^has the key "commits" twice in one object/,
      ],
      'duplicate-rollup.json': [
        base.replace('"rollup": {', '"rollup": {"totals": {}},\n  "rollup": {'),
        /^has the key "rollup" twice in one object/,
      ],
      'too-many-models.json': [
        signed((r) => {
          r.byModel = Array.from({ length: 501 }, (_, i) => ({ ...r.byModel[0]!, model: `m${i}` }));
        }),
        /^invalid: rollup\.byModel: more than 500 rows$/,
      ],
      'bidi-model.json': [
        signed((r) => {
          r.byModel[0]!.model = 'gpt\u202e5-x';
        }),
        /^invalid: rollup\.byModel\[0\]\.model: has control characters or bidirectional overrides$/,
      ],
      'bidi-mark-model.json': [
        signed((r) => {
          r.byModel[0]!.model = 'claude\u200f-opus';
        }),
        /^invalid: rollup\.byModel\[0\]\.model: has control characters or bidirectional overrides$/,
      ],
      'bidi-name.json': [
        signed((r) => {
          r.member.displayName = 'Ana\u202egnp.exe';
        }),
        /^invalid: rollup\.member\.displayName: a display name has letters/,
      ],
      // The reasons name the field that does not add up, never a member's figures (they are shown in the report).
      'mismatched-sum.json': [
        signed((r) => {
          r.totals.input += 100;
          r.totals.total += 100;
        }),
        /^figures do not add up: totals\.input ≠ the sum of bySource$/,
      ],
      'mismatched-total.json': [
        signed((r) => {
          r.byModel[0]!.total += 1;
        }),
        /^figures do not add up: byModel\[0\]\.total ≠ input \+ output \+ cacheRead \+ cacheWrite$/,
      ],
      'mismatched-value.json': [
        signed((r) => {
          r.value.yield = 1;
        }),
        /^figures do not add up: value\.yield ≠ what the figures it is computed from give$/,
      ],
      'unknown-field.json': [
        signed((r) => {
          (r as unknown as Record<string, unknown>).hostname = 'laptop';
        }),
        /^invalid: rollup: unexpected field "hostname"$/,
      ],
      'control-chars.json': [
        signed((r) => {
          r.member.displayName = 'Eve\n## Fake heading';
        }),
        /^invalid: rollup\.member\.displayName: a display name has letters, spaces and \. ' - only/,
      ],
      'html-name.json': [
        signed((r) => {
          r.member.displayName = '<img src=x onerror=alert(1)>';
        }),
        /^invalid: rollup\.member\.displayName: /,
      ],
      'figure-in-name.json': [
        signed((r) => {
          r.member.displayName = 'Bo 1234567 tokens';
        }),
        /^invalid: rollup\.member\.displayName: /,
      ],
      'nested.json': ['['.repeat(200_000) + ']'.repeat(200_000), /^nested deeper than 12 levels: not a rollup$/],
      'nested-object.json': [
        base.replace('"pricing": {', `"pricing": ${'{"a":'.repeat(50)}1${'}'.repeat(50)}, "x": {`),
        /^nested deeper than 12 levels/,
      ],
    };
    for (const [name, [content]] of Object.entries(hostile)) fs.writeFileSync(path.join(dir, name), content);
    // Files that are not files: read without blocking or reading without end, refused with what they are.
    const special: Record<string, RegExp> = {
      'fifo.json': /^not a regular file \(a named pipe\)$/,
      'zero.json': /^not a regular file \(a device\)$/,
      'dangling.json': /^no such file$/,
      'looping.json': /^a symbolic link that loops$/,
    };
    execFileSync('mkfifo', [path.join(dir, 'fifo.json')]);
    fs.symlinkSync('/dev/zero', path.join(dir, 'zero.json'));
    fs.symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling.json'));
    fs.symlinkSync(path.join(dir, 'looping.json'), path.join(dir, 'looping.json'));
    // A folder linking to itself and to its parent is not followed (the walk ends); a link to a rollup counts once.
    fs.mkdirSync(path.join(dir, 'loop'));
    fs.symlinkSync(path.join(dir, 'loop'), path.join(dir, 'loop', 'self'));
    fs.symlinkSync(dir, path.join(dir, 'loop', 'up.json'));
    fs.symlinkSync(path.join(dir, 'good-0.json'), path.join(dir, 'link-to-good.json'));
    Object.assign(hostile, Object.fromEntries(Object.entries(special).map(([n, re]) => [n, ['', re]])));
    // Validly signed, and a model name is free text: it counts, and is shown as text.
    const evilModel = syntheticRollup({
      key: key(4),
      seed: 25,
      models: [['claude-code', '<script>alert(1)</script>|**x**[y](http://z.example)']],
    });
    fs.writeFileSync(path.join(dir, 'html-model.json'), text(evilModel));
    good.push(evilModel);
    const now = Date.parse('2026-12-01T00:00:00Z');
    const team = mergeTeamRollups([dir], { k: 3, cwd: dir, now });
    // The CLI and the extension check the files in worker threads: the same report, reason for reason.
    assert.deepEqual(await mergeTeamRollupsAsync([dir], { k: 3, cwd: dir, now, threads: 2, inThreadFirst: 0 }), team);
    assert.equal(team.files.counted, 4, JSON.stringify(team.notCounted, null, 1));
    assert.equal(team.members, 4);
    assert.equal(team.files.refused, Object.keys(hostile).length);
    assert.deepEqual(
      team.notCounted.filter((n) => n.status !== 'refused').map((n) => [n.file, n.status]),
      [['link-to-good.json', 'duplicate']],
    );
    assert.ok(
      !team.notCounted.some((n) => n.file.startsWith(`loop${path.sep}`)),
      `links to folders are not followed: ${JSON.stringify(team.notCounted.filter((n) => n.file.startsWith(`loop${path.sep}`)))}`,
    );
    for (const [name, [, reason]] of Object.entries(hostile)) {
      const note = team.notCounted.find((n) => n.file === name);
      assert.ok(note, `${name} is listed`);
      assert.equal(note.status, 'refused');
      assert.ok(!note.reason.includes('\n') && note.reason.length < 300, `${name}: one short line: ${note.reason}`);
      assert.match(note.reason, reason, `${name}: ${note.reason}`);
      if (note.reason.startsWith('figures do not add up'))
        assert.ok(!/\d{2,}/.test(note.reason), `${name}: no member's figure in the reason`);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
    assert.equal(
      team.totals?.total,
      good.reduce((s, f) => s + f.rollup.totals.total, 0),
    );
    const md = renderTeamMarkdown(team);
    assert.match(md, /\| proto\\\.json \| refused \| has a &#34;\\_\\_proto\\_\\_&#34; key/);
    assert.match(
      md,
      /other models \\\(grouped so that no row covers fewer than 3 members\\\)/,
      'the hostile model, used by one member, is folded',
    );
    assert.ok(!md.includes('alert'), 'the folded model is not named');
    const one = new TeamMerger();
    [0, 1, 2].forEach((i) =>
      one.add(
        `m${i}.json`,
        syntheticRollup({
          key: key(i),
          seed: 60 + i,
          models: evilModel.rollup.byModel.map((m) => [m.source, m.model] as [typeof m.source, string]),
        }).rollup,
      ),
    );
    const shown = one.result(3, 'now');
    assert.ok(
      !renderTeamHtml(shown).includes('<script>') &&
        renderTeamHtml(shown).includes('&#60;script&#62;alert(1)&#60;/script&#62;|**x**[y](http://z.example)'),
    );
    assert.ok(
      renderTeamMarkdown(shown).includes(
        '&#60;script&#62;alert\\(1\\)&#60;/script&#62;\\|\\*\\*x\\*\\*\\[y\\]\\(http\\:',
      ),
    );
  });

  it('escapes every string from a rollup in HTML and Markdown: display names and model names cannot inject markup', () => {
    const evilModel = '<script>alert(1)</script>|`x`**bold**[a](http://evil.example)';
    const evilName = '<img src=x onerror=alert(1)> [click](javascript:alert(1)) | ![x](http://t.example/p.png) &amp;';
    const files = [0, 1, 2].map((i) =>
      syntheticRollup({
        key: key(i),
        seed: 30 + i,
        displayName: i === 0 ? evilName : null,
        models: [['claude-code', evilModel]],
      }),
    );
    const merger = new TeamMerger();
    files.forEach((f, i) => merger.add(`<b>file-${i}</b>.json`, f.rollup));
    merger.refuse('evil|name<script>.json', 'reason with <tags> & [links](x)');
    const team = merger.result(3, '2026-12-01T00:00:00.000Z');
    assert.equal(team.byModel?.[0]?.model, evilModel);
    const html = renderTeamHtml(team);
    assert.ok(!/<script|<img|<b>|javascript:alert\(1\)\)"|href=/i.test(html), 'no markup from rollups in the HTML');
    assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(html.includes('&#60;img src=x onerror=alert(1)&#62;'));
    const md = renderTeamMarkdown(team);
    for (const line of md.split('\n').filter((l) => l.includes('alert'))) {
      assert.ok(!/<|\]\(|(?<!\\)`|(?<!\\)\*\*/.test(line), `unescaped markup in: ${line}`);
    }
    const modelRow = md.split('\n').find((l) => l.includes('alert') && l.includes('Claude Code'));
    assert.equal(modelRow?.split(/(?<!\\)\|/).length, 9, 'a pipe in a model name does not add a column');
    assert.equal(mdText('a|b*c_d[e](f)<g>`h`'), 'a\\|b\\*c\\_d\\[e\\]\\(f\\)&#60;g&#62;\\`h\\`');
    assert.equal(htmlText('"\'<&>`'), '&#34;&#39;&#60;&#38;&#62;&#96;');
    // Bidirectional controls in a file name (names from the file system are not checked by the schema) are replaced.
    for (const c of ['\u202e', '\u2067', '\u200f', '\u061c']) {
      assert.equal(mdText(`a${c}b`), 'a\uFFFDb');
      assert.equal(htmlText(`a${c}b`), 'a\uFFFDb');
    }
  });

  it('counts each machine once: the same file twice, a contained period, a partial overlap; several machines of one member add up', () => {
    const k0 = key(0);
    const month = syntheticRollup({ key: k0, seed: 40, machineId: 'a'.repeat(32) });
    const week = syntheticRollup({
      key: k0,
      seed: 41,
      machineId: 'a'.repeat(32),
      since: '2026-11-08',
      until: '2026-11-14',
    });
    const partial = syntheticRollup({
      key: k0,
      seed: 42,
      machineId: 'a'.repeat(32),
      since: '2026-11-20',
      until: '2026-12-05',
    });
    const laptop = syntheticRollup({ key: k0, seed: 43, machineId: 'b'.repeat(32) });
    const m = new TeamMerger();
    m.add('week.json', week.rollup);
    m.add('month.json', month.rollup);
    m.add('month-again.json', month.rollup);
    m.add('partial.json', partial.rollup);
    m.add('laptop.json', laptop.rollup);
    const team = m.result(2, 'now');
    assert.equal(team.members, 1);
    assert.equal(team.machines, 2);
    assert.equal(team.files.counted, 2);
    assert.deepEqual(
      team.notCounted.map((n) => [n.file, n.status]),
      [
        ['month-again.json', 'duplicate'],
        ['partial.json', 'overlap'],
        ['week.json', 'superseded'],
      ],
    );
    assert.match(
      team.notCounted[1]!.reason,
      /partly overlaps month\.json \(2026-11-01 … 2026-11-30\) from the same machine/,
    );
    assert.equal(team.withheld, true, 'one member: nothing shown even at k = 2');
    // Someone else re-signing a member's figures (same requests, another key) does not count them twice.
    const copied = syntheticRollup({ key: key(1), seed: 40, machineId: 'd'.repeat(32) });
    m.add('copied-by-someone-else.json', copied.rollup);
    const again = m.result(2, 'now');
    assert.equal(again.members, 1);
    assert.match(
      again.notCounted.find((n) => n.file === 'copied-by-someone-else.json')?.reason ?? '',
      /covers exactly the requests of month\.json, which another member's key signed: counted once/,
    );
    // Same period, re-exported later with more requests: the fuller export counts.
    const later = syntheticRollup({ key: k0, seed: 44, machineId: 'a'.repeat(32) });
    const fuller = later.rollup.interactions.count >= month.rollup.interactions.count ? later : month;
    const m2 = new TeamMerger();
    m2.add('first.json', month.rollup);
    m2.add('second.json', later.rollup);
    assert.equal(m2.result(2, 'now').notCounted[0]?.file, fuller === later ? 'first.json' : 'second.json');
  });

  it('k-anonymity per row: a model fewer than k members use is folded, and the fold takes shown rows until it covers k members', () => {
    const sonnet: ['claude-code', string] = ['claude-code', 'claude-sonnet-4-5-20250929'];
    const rare: ['codex', string] = ['codex', 'gpt-5-rare'];
    const files = [0, 1, 2].map((i) =>
      syntheticRollup({ key: key(i), seed: 50 + i, models: i === 0 ? [sonnet, rare] : [sonnet] }),
    );
    const m = new TeamMerger();
    files.forEach((f, i) => m.add(`f${i}.json`, f.rollup));
    const team: TeamReportJson = m.result(3, 'now');
    // Codex alone would be one member's figures, and so would the total minus Claude Code: both are grouped.
    assert.deepEqual(
      team.bySource?.map((r) => [r.source, r.members]),
      [['other', 3]],
    );
    assert.deepEqual(
      team.byModel?.map((r) => [r.source, r.model, r.members]),
      [['other', 'other models (grouped so that no row covers fewer than 3 members)', 3]],
    );
    const rareTotal = files[0]!.rollup.byModel.find((x) => x.model === 'gpt-5-rare')?.total;
    assert.ok(
      ![...(team.bySource ?? []), ...(team.byModel ?? [])].some((r) => r.total === rareTotal),
      'no row is the rare model alone',
    );
    // Two more members on Codex (another model): Codex has three members, so it is shown, its two models grouped.
    for (const i of [3, 4])
      m.add(
        `f${i}.json`,
        syntheticRollup({ key: key(i), seed: 50 + i, models: [sonnet, ['codex', 'gpt-5-codex']] }).rollup,
      );
    const five = m.result(3, 'now');
    assert.deepEqual(
      five.bySource?.map((r) => [r.source, r.members]),
      [
        ['claude-code', 5],
        ['codex', 3],
      ],
    );
    assert.deepEqual(
      five.byModel?.map((r) => [r.source, r.model, r.members]),
      [
        ['claude-code', 'claude-sonnet-4-5-20250929', 5],
        ['codex', 'other models (grouped so that no row covers fewer than 3 members)', 3],
      ],
    );
    const atFour = m.result(6, 'now');
    assert.equal(atFour.withheld, true);
    assert.equal(atFour.distributions, null);
  });

  it('k-anonymity holds for every breakdown of random teams: every row covers k members, and no difference of rows is a smaller group', () => {
    const all: Array<[SourceName, string]> = [
      ['claude-code', 'claude-sonnet-4-5-20250929'],
      ['claude-code', 'claude-opus-4-5-20251101'],
      ['claude-code', 'claude-haiku-4-5-20251001'],
      ['codex', 'gpt-5-codex'],
      ['codex', 'gpt-5'],
      ['copilot-chat', 'gpt-4.1'],
      ['gemini-cli', 'gemini-2.5-pro'],
    ];
    for (let seed = 0; seed < 60; seed++) {
      const rng = new Rng(seed);
      const size = rng.int(3, 7);
      const k = rng.int(2, Math.min(size, 4));
      const m = new TeamMerger();
      const usage = new Map<string, Set<number>>();
      for (let i = 0; i < size; i++) {
        const models = rng.shuffle([...all]).slice(0, rng.int(1, 4));
        for (const [source, model] of models) {
          usage.set(source, (usage.get(source) ?? new Set()).add(i));
          usage.set(`${source}/${model}`, (usage.get(`${source}/${model}`) ?? new Set()).add(i));
        }
        m.add(`f${i}.json`, syntheticRollup({ key: key(i), seed: 1000 + seed * 10 + i, models }).rollup);
      }
      const team = m.result(k, 'now');
      const at = `seed ${seed}, ${size} members, k = ${k}`;
      assert.ok(team.totals && team.bySource && team.byModel, at);
      for (const r of [...team.bySource, ...team.byModel])
        assert.ok(r.members >= k, `${at}: a row of ${r.members} members: ${JSON.stringify(r)}`);
      const sum = (rows: ReadonlyArray<{ total: number }>): number => rows.reduce((t, r) => t + r.total, 0);
      // By tool adds up to the totals, and each tool's models add up to the tool: the one row a difference could
      // reveal (the tool minus its models shown) is the tool's grouped row, itself of k members.
      assert.equal(sum(team.bySource), team.totals.total, at);
      for (const s of team.bySource)
        assert.equal(sum(team.byModel.filter((x) => x.source === s.source)), s.total, `${at}: ${s.source}`);
      // A row shown under a tool or model's own name has exactly the members who use it.
      for (const s of team.bySource.filter((x) => x.source !== 'other'))
        assert.equal(s.members, usage.get(s.source)?.size, at);
    }
  });

  it('marks estimated token figures with ~ in the team report (by tool and model too) and in the rollup preview', () => {
    const estimate =
      (n: number) =>
      (r: TeamRollup): void => {
        const row = r.byModel[0]!;
        row.estimatedTokens = Math.min(n, row.total);
        r.bySource.find((x) => x.source === row.source)!.estimatedTokens += row.estimatedTokens;
        r.totals.estimatedTokens += row.estimatedTokens;
      };
    const sonnet: ['claude-code', string] = ['claude-code', 'claude-sonnet-4-5-20250929'];
    const codex: ['codex', string] = ['codex', 'gpt-5-codex'];
    const files = [0, 1, 2].map((i) =>
      syntheticRollup({
        key: key(i),
        seed: 300 + i,
        models: [codex, sonnet],
        edit: i === 0 ? estimate(1234) : undefined,
      }),
    );
    for (const f of files) assert.ok(checkTeamRollupText(text(f)).ok, 'the edited figures still add up');
    const m = new TeamMerger();
    files.forEach((f, i) => m.add(`f${i}.json`, f.rollup));
    const team = m.result(3, 'now');
    assert.equal(team.totals?.estimatedTokens, 1234);
    assert.equal(team.bySource?.find((s) => s.source === 'codex')?.estimatedTokens, 1234);
    const md = renderTeamMarkdown(team);
    const row = (start: string): string => md.split('\n').find((l) => l.startsWith(start)) ?? '';
    assert.match(row('| Codex CLI | 3 |'), /\| ~[\d,]+ \|/);
    assert.doesNotMatch(row('| Claude Code | 3 |'), /~/);
    assert.match(row('| Codex CLI | gpt\\-5\\-codex |'), /\| ~[\d,]+ \|/);
    assert.doesNotMatch(row('| Claude Code | claude'), /~/);
    assert.match(md, /~1,234 \|/);
    assert.match(md, /~ marks token figures that are partly or wholly estimated/);
    assert.match(renderTeamHtml(team), /<td class="num">~[\d,]+<\/td>/);
    const preview = renderRollupPreview(files[0]!, text(files[0]!));
    assert.match(preview, /by tool: codex ~[\d.]+[kM]?, claude-code [\d.]+/);
    assert.match(preview, /~1,234 of them estimated/);
  });

  it('names the periods when members exported different ones', () => {
    const m = new TeamMerger();
    [0, 1, 2].forEach((i) => m.add(`nov-${i}.json`, syntheticRollup({ key: key(i), seed: 80 + i }).rollup));
    m.add('oct.json', syntheticRollup({ key: key(3), seed: 84, since: '2026-10-01', until: '2026-10-31' }).rollup);
    const team = m.result(3, 'now');
    assert.deepEqual(team.period.periods, [
      { since: '2026-11-01', until: '2026-11-30', rollups: 3 },
      { since: '2026-10-01', until: '2026-10-31', rollups: 1 },
    ]);
    assert.equal(team.period.since, '2026-10-01');
    assert.match(
      renderTeamMarkdown(team),
      /The counted rollups cover different periods: 2026-11-01 … 2026-11-30 \(3\), 2026-10-01 … 2026-10-31 \(1\)\./,
    );
  });

  it('quartiles interpolate between members (type 7)', () => {
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantile([10], 0.75), 10);
    assert.equal(quantile([], 0.5), null);
  });

  it('the pure checks refuse a huge text before parsing it', () => {
    const r = parseTeamRollup(' '.repeat((1 << 20) + 1));
    assert.ok(!r.ok && /^too large/.test(r.reason));
  });
});
