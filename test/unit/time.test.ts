import assert from 'node:assert/strict';
import {
  addDays,
  isIsoDate,
  isValidTimeZone,
  localDate,
  LocalDayMapper,
  periodRange,
  startOfLocalDay,
} from '../../src/core/usage/time';

describe('time zones', () => {
  it('groups an instant into the calendar day of the requested zone', () => {
    const t = Date.parse('2026-03-10T20:30:00Z');
    assert.equal(localDate('UTC', t), '2026-03-10');
    assert.equal(localDate('Asia/Kolkata', t), '2026-03-11'); // +05:30
    assert.equal(localDate('America/Los_Angeles', t), '2026-03-10');
    assert.equal(localDate('Pacific/Kiritimati', t), '2026-03-11'); // +14
  });

  it('finds the first instant of a local day, across DST changes', () => {
    assert.equal(startOfLocalDay('UTC', '2026-03-08'), Date.parse('2026-03-08T00:00:00Z'));
    assert.equal(startOfLocalDay('America/New_York', '2026-03-08'), Date.parse('2026-03-08T05:00:00Z')); // EST
    assert.equal(startOfLocalDay('America/New_York', '2026-03-09'), Date.parse('2026-03-09T04:00:00Z')); // EDT
    assert.equal(startOfLocalDay('Asia/Kathmandu', '2026-01-01'), Date.parse('2025-12-31T18:15:00Z')); // +05:45
  });

  it('turns inclusive dates into a half-open range', () => {
    const r = periodRange('Europe/Berlin', '2026-07-01', '2026-07-01');
    assert.equal(r.from, Date.parse('2026-06-30T22:00:00Z'));
    assert.equal(r.to, Date.parse('2026-07-01T22:00:00Z'));
  });

  it('maps 15-minute buckets to the right day even in quarter-hour zones', () => {
    const m = new LocalDayMapper('Asia/Kathmandu');
    assert.equal(m.date(Date.parse('2025-12-31T18:14:59Z')), '2025-12-31');
    assert.equal(m.date(Date.parse('2025-12-31T18:15:00Z')), '2026-01-01');
  });

  it('validates zones and dates', () => {
    assert.equal(isValidTimeZone('Europe/Berlin'), true);
    assert.equal(isValidTimeZone('Mars/Olympus'), false);
    assert.equal(isIsoDate('2026-02-29'), false);
    assert.equal(isIsoDate('2028-02-29'), true);
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  });
});
