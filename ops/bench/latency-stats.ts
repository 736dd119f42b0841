/** Figures the load benches print (fanout.bench.ts, ws.bench.ts). */
import hdr from 'hdr-histogram-js';

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** p50 and p99 of ms values, through an HDR histogram in µs (3 significant digits); 0 when empty */
export function percentiles(values: Iterable<number>): { p50: number; p99: number; count: number } {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  let count = 0;
  for (const value of values) {
    histogram.recordValue(Math.max(1, Math.round(value * 1000))); // µs
    count++;
  }
  const result = { p50: histogram.getValueAtPercentile(50) / 1000, p99: histogram.getValueAtPercentile(99) / 1000, count };
  histogram.destroy();
  return result;
}
