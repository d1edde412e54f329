/**
 * A topic's subscriptions: those of the table, and those declared in CDK (read-only, and winning
 * over a table entry of the same name). The dispatcher, the deliverer and the API all look them up
 * here.
 */
import { SUBSCRIPTION_DEFAULTS, type DeclaredSubscription } from '../../../api/subscriptions';
import type { Subscription, SubscriptionStore } from './subscription-store';

export class SubscriptionCatalog {
  private readonly declared: readonly DeclaredSubscription[];

  constructor(
    readonly store: SubscriptionStore,
    declared: readonly DeclaredSubscription[] = [],
  ) {
    this.declared = declared;
  }

  /** The declared subscriptions of a topic, bound to its current topicId. */
  declaredFor(topic: string, topicId: string): Subscription[] {
    return this.declared.filter((d) => d.topic === topic).map((d) => fromDeclared(d, topicId));
  }

  /** Topic names with declared subscriptions. */
  declaredTopics(): string[] {
    return [...new Set(this.declared.map((d) => d.topic))];
  }

  async list(topic: string, topicId: string): Promise<Subscription[]> {
    const declared = this.declaredFor(topic, topicId);
    const names = new Set(declared.map((d) => d.name));
    const stored = (await this.store.listSubscriptions(topicId)).filter((s) => !names.has(s.name));
    return [...declared, ...stored].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(topic: string, topicId: string, name: string): Promise<Subscription | undefined> {
    const declared = this.declaredFor(topic, topicId).find((d) => d.name === name);
    return declared ?? (await this.store.getSubscription(topicId, name));
  }
}

function fromDeclared(d: DeclaredSubscription, topicId: string): Subscription {
  return {
    topic: d.topic,
    topicId,
    name: d.name,
    target: d.target,
    ...(d.filter ? { filter: d.filter } : {}),
    startAt: d.startAt ?? SUBSCRIPTION_DEFAULTS.startAt,
    maxAttempts: d.maxAttempts ?? SUBSCRIPTION_DEFAULTS.maxAttempts,
    source: 'stack',
  };
}
