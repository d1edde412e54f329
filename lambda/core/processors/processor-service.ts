/**
 * The processors API (`GET /processors`, `GET /processors/{name}`): what each stream processor the
 * stack deploys has done and has left to do. Per processor partition: its committed input
 * positions against the log's high watermarks (lag), its stream time, counters and state size.
 *
 * Which processors exist, and which topics each reads, comes from the stack (the `StreamProcessor`
 * construct declares them, SLUICE_DECLARED_PROCESSORS): a processor is listed from its deployment
 * on, before its first commit, and a partition that never committed still shows its whole backlog.
 * What they did comes from the `processors` table (ProcessorStore) and the log (LogReadService).
 */
import { ProcessorNotFoundError } from '../../../api/errors';
import { PROCESSOR_COUNTERS, type DeclaredProcessor, type ProcessorDescription, type ProcessorInput, type ProcessorPartition } from '../../../api/processors';
import type { PartitionOffsets, TopicConfig } from '../../../api/topics';
import { deadLetterTopic } from '../../streams/topology';
import type { LogReadService } from '../log/log-read-service';
import type { TopicStore } from '../topics/topic-store';
import type { ProcessorStore, StoredProcessorPartition } from './processor-store';

/** Partitions read at once: describing a wide processor must not burst hundreds of queries. */
const CONCURRENCY = 16;

export interface ProcessorServiceOptions {
  /** The processors the stack deploys. */
  readonly declared: readonly DeclaredProcessor[];
  readonly topics: TopicStore;
  readonly log: Pick<LogReadService, 'partitionOffsets'>;
  readonly store: ProcessorStore;
}

export class ProcessorService {
  private readonly declared: ReadonlyMap<string, DeclaredProcessor>;

  constructor(private readonly options: ProcessorServiceOptions) {
    this.declared = new Map(options.declared.map((p) => [p.name, p]));
  }

  /**
   * The deployed processors, described, by name; only those `visible` keeps (the caller's ACLs),
   * chosen before anything is read.
   */
  async list(visible: (names: string[]) => Promise<string[]> = async (names) => names): Promise<ProcessorDescription[]> {
    const names = await visible([...this.declared.keys()].sort());
    const described: ProcessorDescription[] = [];
    // One at a time: each already reads its partitions CONCURRENCY at a time.
    for (const name of names) described.push(await this.describe(name));
    return described;
  }

  async describe(name: string): Promise<ProcessorDescription> {
    const processor = this.declared.get(name);
    if (!processor) throw new ProcessorNotFoundError(`No stream processor "${name}" is deployed`, { details: { processor: name } });

    // Inputs that do not exist have nothing to process: an internal topic before the runtime
    // created it, a user topic not created yet (the processor's deliveries fail until it is).
    const inputs: { config: TopicConfig; offsets: readonly PartitionOffsets[] }[] = [];
    for (const topic of processor.inputs) {
      const config = await this.options.topics.getTopic(topic);
      if (config) inputs.push({ config, offsets: await this.options.log.partitionOffsets(config) });
    }
    const partitionCount = Math.max(0, ...inputs.map((i) => i.config.partitions));

    const partitions: ProcessorPartition[] = [];
    for (let start = 0; start < partitionCount; start += CONCURRENCY) {
      const batch = Array.from({ length: Math.min(CONCURRENCY, partitionCount - start) }, (_, i) => start + i);
      partitions.push(
        ...(await Promise.all(
          batch.map(async (partition) => describePartition(partition, await this.options.store.readPartition(name, partition), inputs)),
        )),
      );
    }

    return {
      name,
      inputs: processor.inputs,
      deadLetterTopic: deadLetterTopic(name),
      lag: sum(partitions.map((p) => p.lag)),
      counters: sumCounters(partitions.map((p) => p.counters)),
      state: { items: sum(partitions.map((p) => p.state.items)), bytes: sum(partitions.map((p) => p.state.bytes)) },
      updatedAt: partitions.reduce<number | null>((latest, p) => (p.updatedAt !== null && (latest === null || p.updatedAt > latest) ? p.updatedAt : latest), null),
      partitions,
    };
  }
}

function describePartition(
  partition: number,
  stored: StoredProcessorPartition,
  inputs: readonly { config: TopicConfig; offsets: readonly PartitionOffsets[] }[],
): ProcessorPartition {
  const described: ProcessorInput[] = [];
  for (const { config, offsets } of inputs) {
    const bounds = offsets.find((o) => o.partition === partition);
    if (!bounds) continue; // a topic with fewer partitions than another input
    // A position written for an earlier topic of the same name does not apply: the runtime starts
    // a re-created topic from its start.
    const committed = stored.positions.find((p) => p.topic === config.name && (p.topicId === undefined || p.topicId === config.topicId));
    const position = committed?.offset ?? null;
    const from = Math.max(position ?? bounds.logStartOffset, bounds.logStartOffset);
    described.push({ topic: config.name, position, highWatermark: bounds.highWatermark, lag: Math.max(0, bounds.highWatermark - from) });
  }
  return {
    partition,
    inputs: described,
    lag: sum(described.map((i) => i.lag)),
    streamTime: stored.streamTime ?? null,
    counters: sumCounters([stored.counters]),
    state: { items: stored.state.items, bytes: stored.state.bytes },
    updatedAt: stored.updatedAt ?? null,
  };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** The standard counters (0 when never counted), then the topology's own, by name. */
function sumCounters(all: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const totals: Record<string, number> = Object.fromEntries(PROCESSOR_COUNTERS.map((c) => [c, 0]));
  for (const counters of all) for (const [name, n] of Object.entries(counters)) totals[name] = (totals[name] ?? 0) + n;
  const standard = new Set<string>(PROCESSOR_COUNTERS);
  const own = Object.keys(totals).filter((c) => !standard.has(c)).sort();
  return Object.fromEntries([...PROCESSOR_COUNTERS, ...own].map((c) => [c, totals[c]!]));
}
