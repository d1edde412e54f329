/** Validates a part of the request against a zod schema, failing with a 400 that lists every issue. */
import type { z } from 'zod';
import { InvalidRequestError } from '../../api/errors';

export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new InvalidRequestError(`Invalid request: ${summary}`, { details: { issues } });
}
