import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { listSessions, sessionDays, type SessionDay } from '../../src/services/queries';
import { Ledger } from '../../src/store/ledger';
import { addDays, localDate } from '../../src/core/usage/time';
import { roundUSD } from '../../src/core/outcomes/report';
import { addRecords, syntheticRequest, tempDir } from '../helpers';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-30T12:00:00Z');

/** The Sessions view's days as the first version built them: every session of the period, grouped by its start day. */
function daysFromSessions(ledger: Ledger, timeZone: string, since?: string): SessionDay[] {
  const byDay = new Map<string, SessionDay>();
  for (const s of listSessions(ledger.database, { timeZone, since })) {
    const date = localDate(timeZone, Date.parse(s.start));
    let d = byDay.get(date);
    if (!d) byDay.set(date, (d = { date, sessions: 0, tokens: 0, estimated: 0, costUSD: 0 }));
    d.sessions++;
    d.tokens += s.tokens.total;
    d.estimated += s.estimatedTokens;
    d.costUSD += s.costUSD;
  }
  return [...byDay.values()].sort((a, b) => b.date.localeCompare(a.date));
}

/** Equal days, the cost to a micro-dollar per session (the sessions' costs are each rounded, the day's sum is not). */
function assertSameDays(actual: SessionDay[], expected: SessionDay[]): void {
  assert.deepEqual(
    actual.map((d) => ({ ...d, costUSD: 0 })),
    expected.map((d) => ({ ...d, costUSD: 0 })),
  );
  actual.forEach((d, i) => {
    const want = expected[i]!;
    assert.ok(Math.abs(d.costUSD - roundUSD(want.costUSD)) <= want.sessions * 1e-6, `${d.date}: ${d.costUSD}`);
  });
}

describe('the Sessions view reads its days from the per-session totals', () => {
  let home: string;
  let ledger: Ledger;

  before(async () => {
    home = tempDir('ol-days-');
    ledger = await Ledger.open(home);
    // 60 days of sessions at every hour of the day (so local days split them differently per zone), some spanning
    // midnight and some running for days (active in a period they started before).
    const records = [];
    let n = 0;
    for (let day = 60; day >= 0; day--) {
      for (let k = 0; k < 5; k++) {
        const start = NOW - day * DAY + ((k * 5 + day) % 24) * 3_600_000 - 12 * 3_600_000;
        const span = k === 4 ? 3 * DAY : (k + 1) * 2_700_000;
        for (let r = 0; r < 4; r++) {
          n++;
          records.push(syntheticRequest(`r${n}`, `s${day}-${k}`, start + (span * r) / 3, 40 + ((n * 37) % 900)));
        }
      }
    }
    await addRecords(ledger, records);
  });

  after(() => {
    ledger.close();
    fs.rmSync(home, { recursive: true, force: true });
  });

  for (const timeZone of ['UTC', 'America/Los_Angeles', 'Asia/Kathmandu']) {
    it(`gives each start day the count and sums of its sessions (${timeZone})`, () => {
      const whole = sessionDays(ledger.database, { timeZone });
      assert.equal(
        whole.reduce((a, d) => a + d.sessions, 0),
        305,
      );
      assertSameDays(whole, daysFromSessions(ledger, timeZone));
      // The view's window: sessions active since then, under the day they started (which may be before it).
      const since = addDays(localDate(timeZone, NOW), -3);
      const recent = sessionDays(ledger.database, { timeZone, since });
      assertSameDays(recent, daysFromSessions(ledger, timeZone, since));
      assert.ok(
        recent.some((d) => d.date < since),
        'a session that started before the window and ran into it',
      );
      assert.ok(recent.every((d) => d.tokens > 0 && d.costUSD > 0));
    });
  }
});
