#!/usr/bin/env node
// The `sluice` executable.
// - Installed from the package: runs the compiled CLI, dist/cli/main.js (built by `npm run build`).
// - In a checkout of this repository, where the TypeScript sources sit beside it: runs cli/main.ts
//   through tsx's loader, so `npx sluice` always runs the current sources, never a stale build.
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import('../dist/cli/main.js');
}
await cli.main(process.argv.slice(2));
