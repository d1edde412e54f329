/**
 * The example's topics: what its processors read and write, with the partition counts the joins
 * need (a join's two sides must have as many partitions: orders, payments and customers have 3).
 * A processor's output topics must exist before it runs (its deliveries fail until they do); its
 * internal topics (`<name>-repartition-<n>`, `<name>-dlq`) are created by the processor itself.
 */
// In your own app: `import type { SluiceClient } from 'sluice/client';`
import { TopicAlreadyExistsError } from '../../../api/errors';
import type { SluiceClient } from '../../../client/sluice-client';

export const TOPICS = [
  { name: 'clicks', partitions: 4 },
  { name: 'clicks-per-minute', partitions: 4 },
  { name: 'orders', partitions: 3 },
  { name: 'payments', partitions: 3 },
  { name: 'paid-orders', partitions: 3 },
  { name: 'customers', partitions: 3 },
  { name: 'enriched-orders', partitions: 3 },
] as const;

/** Creates every topic of the example that does not exist yet. */
export async function createTopics(client: Pick<SluiceClient, 'createTopic'>): Promise<void> {
  for (const topic of TOPICS) {
    try {
      await client.createTopic({ name: topic.name, partitions: topic.partitions });
    } catch (err) {
      if (!(err instanceof TopicAlreadyExistsError)) throw err;
    }
  }
}
