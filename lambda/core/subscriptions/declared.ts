/** The subscriptions declared in CDK, as the stack hands them to the functions (SLUICE_DECLARED_SUBSCRIPTIONS). */
import { SUBSCRIPTIONS_ENV, declaredSubscriptionSchema, type DeclaredSubscription } from '../../../api/subscriptions';

/** Parses the variable's JSON; throws on anything else (a broken deployment must not start). */
export function decodeDeclaredSubscriptions(json: string | undefined): DeclaredSubscription[] {
  if (json === undefined || json.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${SUBSCRIPTIONS_ENV.declared} is not JSON`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${SUBSCRIPTIONS_ENV.declared} must be a JSON array`);
  const seen = new Set<string>();
  return parsed.map((entry, i) => {
    const sub = declaredSubscriptionSchema.safeParse(entry);
    if (!sub.success) {
      throw new Error(
        `${SUBSCRIPTIONS_ENV.declared}[${i}] is not a subscription: ${sub.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    }
    const key = `${sub.data.topic}/${sub.data.name}`;
    if (seen.has(key)) throw new Error(`${SUBSCRIPTIONS_ENV.declared} declares ${key} twice`);
    seen.add(key);
    return sub.data;
  });
}
