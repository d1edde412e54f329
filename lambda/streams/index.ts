/**
 * Sluice stream processing (`sluice/streams`): a Kafka Streams-style DSL whose topologies run
 * exactly-once on Sluice (docs/streams.md).
 *
 *   import { streams, TimeWindows } from 'sluice/streams';
 *
 *   const app = streams('clicks-per-minute');
 *   app.stream<Click>('clicks')
 *     .groupBy((click) => click.page)
 *     .windowedBy(TimeWindows.ofSize(60_000).grace(10_000))
 *     .count()
 *     .toStream()
 *     .to('clicks-per-minute');
 */
export { streams, StreamsBuilder, type TableOptions } from './dsl/builder';
export {
  KStream,
  KGroupedStream,
  TimeWindowedKStream,
  SessionWindowedKStream,
  KTable,
  type Key,
  type KeyInput,
  type KeyValue,
  type StreamOptions,
  type GroupedOptions,
  type StoreOptions,
} from './dsl/kstream';
export { TimeWindows, SessionWindows, JoinWindows, type TimeWindow } from './dsl/windows';
export { METRICS, type Windowed } from './dsl/stateful';
export type { Serde } from './dsl/serde';
export { TopologyError, StreamRecordError } from './dsl/errors';
export {
  deadLetterTopic,
  deadLetterRecord,
  DEAD_LETTER_METRIC,
  type DeadLetterValue,
  type StreamRecord,
  type SourceRecord,
  type StateAccess,
  type ProcessorContext,
  type SubTopology,
  type Topology,
} from './topology';
export { TopologyTestDriver, type TestInputRecord, type TestOutputRecord, type TopologyTestDriverOptions } from './testing';
export { sluiceProcessor, type SluiceProcessorOptions, type ProcessorHandler, type ProcessorBatchResponse } from './runtime/handler';
