/** `sluice processors list | describe`: the stream processors the stack deploys, with their lag and state. */
import type { ProcessorDescription } from '../../api/processors';
import type { Command, CommandContext } from '../command';
import { formatFields, formatTable } from '../format';

const list: Command = {
  path: ['processors', 'list'],
  args: [],
  summary: 'List stream processors with their lag, counters and state size.',
  details: [
    'One line per processor the stack deploys (StreamProcessor in CDK). LAG is the events appended to its',
    'input topics (internal repartition topics included) that it has not processed yet; DEAD-LETTERED counts',
    'records whose processing threw, written to the processor\'s <name>-dlq topic.',
  ].join('\n'),
  options: {},
  async run({ client, json, stdout }) {
    const response = await client.listProcessors();
    if (json) return writeJson(stdout, response);
    if (response.processors.length === 0) return void stdout.write('No processors.\n');
    stdout.write(
      formatTable(
        [
          { header: 'PROCESSOR' },
          { header: 'PARTITIONS', align: 'right' },
          { header: 'LAG', align: 'right' },
          { header: 'PROCESSED', align: 'right' },
          { header: 'LATE-DROPPED', align: 'right' },
          { header: 'DEAD-LETTERED', align: 'right' },
          { header: 'STATE-ITEMS', align: 'right' },
          { header: 'STATE-BYTES', align: 'right' },
          { header: 'UPDATED' },
        ],
        response.processors.map((p) => [
          p.name,
          String(p.partitions.length),
          String(p.lag),
          counter(p.counters, 'processed'),
          counter(p.counters, 'lateDropped'),
          counter(p.counters, 'deadLettered'),
          String(p.state.items),
          String(p.state.bytes),
          time(p.updatedAt),
        ]),
      ),
    );
  },
};

const describe: Command = {
  path: ['processors', 'describe'],
  args: ['name'],
  summary: "Show a processor's inputs and, per partition, its positions, lag, stream time, counters and state.",
  details: [
    'POSITION is the next offset the processor will process ("-": nothing committed yet, it starts at the',
    'log start); LAG is HIGH-WATERMARK minus POSITION. STREAM-TIME is the largest event timestamp the',
    'partition has processed: windows close by it, not by the clock.',
  ].join('\n'),
  options: {},
  async run({ client, args, json, stdout }) {
    const processor = await client.describeProcessor(args[0]!);
    if (json) return writeJson(stdout, processor);
    stdout.write(describeProcessor(processor));
  },
};

export const PROCESSORS_COMMANDS: readonly Command[] = [list, describe];

export function describeProcessor(p: ProcessorDescription): string {
  const own = Object.entries(p.counters).filter(([name]) => !['processed', 'lateDropped', 'deadLettered'].includes(name));
  const fields = formatFields([
    ['Processor', p.name],
    ['Inputs', p.inputs.join(', ')],
    ['Dead letters', `${p.deadLetterTopic} (${counter(p.counters, 'deadLettered')})`],
    ['Lag', String(p.lag)],
    ['Processed', counter(p.counters, 'processed')],
    ['Late dropped', counter(p.counters, 'lateDropped')],
    ...own.map(([name, n]) => [name, String(n)] as const),
    ['State', `${p.state.items} items, ${p.state.bytes} bytes`],
    ['Updated', time(p.updatedAt)],
  ]);
  const partitions =
    p.partitions.length === 0
      ? ''
      : '\n' +
        formatTable(
          [
            { header: 'PARTITION', align: 'right' },
            { header: 'TOPIC' },
            { header: 'POSITION', align: 'right' },
            { header: 'HIGH-WATERMARK', align: 'right' },
            { header: 'LAG', align: 'right' },
            { header: 'STREAM-TIME' },
            { header: 'PROCESSED', align: 'right' },
            { header: 'STATE-ITEMS', align: 'right' },
          ],
          // One row per input topic partition; the partition's own columns on its first row only.
          p.partitions.flatMap((part) => {
            const rows = part.inputs.length > 0 ? part.inputs : [undefined];
            return rows.map((input, i) => [
              i === 0 ? String(part.partition) : '',
              input?.topic ?? '-',
              input === undefined || input.position === null ? '-' : String(input.position),
              input === undefined ? '-' : String(input.highWatermark),
              input === undefined ? '-' : String(input.lag),
              i === 0 ? time(part.streamTime) : '',
              i === 0 ? counter(part.counters, 'processed') : '',
              i === 0 ? String(part.state.items) : '',
            ]);
          }),
        );
  return fields + partitions;
}

const counter = (counters: Readonly<Record<string, number>>, name: string) => String(counters[name] ?? 0);
const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function writeJson(stdout: CommandContext['stdout'], value: unknown): void {
  stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
