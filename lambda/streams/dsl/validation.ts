import { subscriptionNameSchema } from '../../../api/subscriptions';
import { topicNameSchema } from '../../../api/topics';
import { TopologyError } from './errors';

/** Throws a TopologyError if `topic` is not a valid Sluice (Kafka) topic name. */
export function checkTopicName(topic: string, where: string): void {
  const result = topicNameSchema.safeParse(topic);
  if (!result.success) {
    throw new TopologyError(`${where}: topic name ${JSON.stringify(topic)} ${result.error.issues.map((i) => i.message).join('; ')}`);
  }
}

/**
 * The application id names the processor's subscriptions, state and internal topics
 * (`<id>-repartition-<n>`, `<id>-dlq`), so it must be a valid subscription name and topic name.
 */
export function checkApplicationId(applicationId: string): void {
  const asName = subscriptionNameSchema.safeParse(applicationId);
  if (!asName.success) {
    throw new TopologyError(
      `application id ${JSON.stringify(applicationId)} must be 1-128 of ASCII letters, digits, ".", "_" and "-" (it names topics and subscriptions)`,
    );
  }
  checkTopicName(`${applicationId}-repartition-0`, 'application id');
}
