/** The stream processors the stack deploys, as the `StreamProcessor` construct hands them over (SLUICE_DECLARED_PROCESSORS). */
import { declaredProcessorSchema, PROCESSORS_ENV, type DeclaredProcessor } from '../../../api/processors';

/** Parses the variable's JSON; throws on anything else (a broken deployment must not start). */
export function decodeDeclaredProcessors(json: string | undefined): DeclaredProcessor[] {
  if (json === undefined || json.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${PROCESSORS_ENV.declared} is not JSON`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${PROCESSORS_ENV.declared} must be a JSON array`);
  const seen = new Set<string>();
  return parsed.map((entry, i) => {
    const processor = declaredProcessorSchema.safeParse(entry);
    if (!processor.success) {
      throw new Error(
        `${PROCESSORS_ENV.declared}[${i}] is not a processor: ${processor.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    }
    if (seen.has(processor.data.name)) throw new Error(`${PROCESSORS_ENV.declared} declares ${processor.data.name} twice`);
    seen.add(processor.data.name);
    return processor.data;
  });
}
