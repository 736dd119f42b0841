/** The page's repeat filter for execution reports and its stale-feed check (used by web/src/ws-feed.ts and app.ts). */
import { describe, expect, it } from 'vitest';
import { FeedFreshness } from './freshness.ts';
import { RecentSeqs } from './recent-seqs.ts';

describe('RecentSeqs', () => {
  it('drops a repeat by its seq, but not an older report that comes late (history repair after a feed hole)', () => {
    const seen = new RecentSeqs(100);
    expect([10, 11, 14].map((seq) => seen.add(seq))).toEqual([true, true, true]);
    expect(seen.add(12), 'older than the highest, never seen: a real report').toBe(true);
    expect(seen.add(14), 'a repeat').toBe(false);
    expect(seen.add(12)).toBe(false);
  });

  it('keeps only the last `capacity` seqs', () => {
    const seen = new RecentSeqs(3);
    for (let seq = 1; seq <= 10_000; seq++) expect(seen.add(seq)).toBe(true);
    expect(seen.add(10_000)).toBe(false);
    expect(seen.add(9_998)).toBe(false);
    expect(seen.add(9_997), 'forgotten: beyond the window').toBe(true);
    seen.clear();
    expect(seen.add(10_000)).toBe(true);
  });
});

describe('FeedFreshness', () => {
  it('calls the live book stale only when it has not reached, a whole check later, the seq REST had', () => {
    const freshness = new FeedFreshness();
    expect(freshness.check(100, 99), 'first check: nothing to compare with yet').toBe(false);
    expect(freshness.check(120, 100), 'reached the previous REST seq (100)').toBe(false);
    expect(freshness.check(130, 121), 'ahead of it').toBe(false);
    expect(freshness.check(140, 125), 'still below 130 a whole interval later').toBe(true);
    expect(freshness.check(150, -1), 'not synced (a snapshot is on its way): not judged').toBe(false);
    freshness.reset();
    expect(freshness.check(500, 10), 'after a reset: nothing to compare with').toBe(false);
  });
});
