#!/usr/bin/env node
// The `sluice` executable: runs the TypeScript CLI (cli/main.ts) through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
await main(process.argv.slice(2));
