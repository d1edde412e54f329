/**
 * Sticky, balanced assignment of partitions to group members (after Kafka's sticky assignor):
 * every partition of a topic goes to exactly one member subscribed to it, counts differ by at most
 * one, and a member keeps as many of its previous partitions as balance allows.
 */

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: number;
}

/** `"<topic>#<partition>"` → memberId. */
export type Owners = Readonly<Record<string, string>>;

export const tpKey = (topic: string, partition: number) => `${topic}#${partition}`;

export function assign(
  topics: readonly TopicPartitions[],
  subscriptions: Readonly<Record<string, readonly string[]>>,
  previous: Owners,
): Record<string, string> {
  const owners: Record<string, string> = {};
  for (const { topic, partitions } of topics) {
    const members = Object.keys(subscriptions)
      .filter((m) => subscriptions[m]!.includes(topic))
      .sort();
    if (members.length === 0) continue;
    const all = Array.from({ length: partitions }, (_, p) => tpKey(topic, p));
    const floor = Math.floor(partitions / members.length);
    let extras = partitions % members.length;

    const previouslyOwned = new Map<string, string[]>(members.map((m) => [m, []]));
    for (const tp of all) previouslyOwned.get(previous[tp] ?? '')?.push(tp);

    // Keep what each member had, up to its share (members with most first, so the extra slots go
    // to those who would otherwise give up a partition).
    const kept = new Map<string, string[]>();
    const byOwned = [...members].sort((a, b) => previouslyOwned.get(b)!.length - previouslyOwned.get(a)!.length || (a < b ? -1 : 1));
    for (const m of byOwned) {
      const mine = previouslyOwned.get(m)!;
      const share = floor + (extras > 0 && mine.length > floor ? 1 : 0);
      if (share > floor) extras--;
      kept.set(m, mine.slice(0, share));
    }
    const taken = new Set([...kept.values()].flat());
    const pool = all.filter((tp) => !taken.has(tp));

    // Fill everyone to the floor, then hand out the remaining extras one each.
    const byCount = () => [...members].sort((a, b) => kept.get(a)!.length - kept.get(b)!.length || (a < b ? -1 : 1));
    for (const m of byCount()) while (kept.get(m)!.length < floor && pool.length > 0) kept.get(m)!.push(pool.shift()!);
    for (const m of byCount()) if (pool.length > 0 && kept.get(m)!.length === floor) kept.get(m)!.push(pool.shift()!);

    for (const [m, tps] of kept) for (const tp of tps) owners[tp] = m;
  }
  return owners;
}
