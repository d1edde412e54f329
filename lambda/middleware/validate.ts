/**
 * Validates a part of the request against a zod schema, failing with a 400 that lists every issue.
 * An absent part (`undefined`: no body, as jsonBody() leaves it) is checked as `{}`, so a route
 * whose body is all optional (heartbeat's `{ generation? }`) accepts none. Anything else is checked
 * as it is: a body of `null`, `[]`, `"x"` or `42` where an object is expected is a 400.
 */
import type { z } from 'zod';
import { InvalidRequestError } from '../../api/errors';
import { allowedValuesError } from '../../api/validation';

export function validate<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  // Union and enum errors list the allowed values (api/validation.ts).
  const result = schema.safeParse(value === undefined ? {} : value, { error: allowedValuesError });
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new InvalidRequestError(`Invalid request: ${summary}`, { details: { issues } });
}
