/**
 * Clicks per minute per page: a tumbling-window count.
 *
 * Clicks arrive keyed by user; `groupBy` re-keys them by page, so the processor writes them to its
 * repartition topic (`clicks-per-minute-repartition-0`) and counts them from there, each page on
 * one partition. Windows are one minute of event time (the clicks' own timestamps), and accept
 * clicks up to 5 minutes late (grace); a click later than that is dropped and counted
 * (`lateDropped` in `sluice processors describe clicks-per-minute`).
 *
 * The grace also covers the processor itself: the partitions of `clicks` are processed side by side,
 * each at its own pace, so the repartition topic may receive a click after later ones from another
 * partition (a backlog of clicks is the extreme case). A grace shorter than that skew drops clicks
 * that were on time.
 *
 * Every update of a count is written to `clicks-per-minute`: key = page, value =
 * `{ key: page, window: { start, end }, value: count }`. The last one per page and window is its count.
 */
// In your own app: `import { sluiceProcessor, streams, TimeWindows } from 'sluice/streams';`
import { sluiceProcessor, streams, TimeWindows } from '../../../lambda/streams';
import type { Click } from './types';

export const app = streams('clicks-per-minute');

app
  .stream<Click>('clicks')
  .groupBy((click) => click.page)
  .windowedBy(TimeWindows.ofSize(60_000).grace(5 * 60_000))
  .count()
  .toStream()
  .to('clicks-per-minute');

export const handler = sluiceProcessor(app);
