#!/usr/bin/env node
// The `sluice` executable: runs the TypeScript CLI (cli/main.ts) through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/main.ts');
process.exitCode = await run(process.argv.slice(2));
