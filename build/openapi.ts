/**
 * Writes docs/openapi.json from the zod schemas of api/ (api/openapi.ts): `npm run openapi`.
 * `--check` writes nothing and fails when the committed file differs (test/unit/api/openapi.test.ts
 * runs the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../api/openapi';

export const OPENAPI_PATH = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

/** The document as committed: two-space JSON and a final newline. */
export function openApiText(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = openApiText();
  if (process.argv.includes('--check')) {
    if (readFileSync(OPENAPI_PATH, 'utf8') !== text) {
      console.error('docs/openapi.json is out of date: run `npm run openapi`');
      process.exit(1);
    }
  } else {
    writeFileSync(OPENAPI_PATH, text);
    console.log(`wrote ${OPENAPI_PATH}`);
  }
}
