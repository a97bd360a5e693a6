#!/usr/bin/env node
// Entry point of the `leukograph` command; the code lives in dist/ (built by `npm install`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`leukograph: ${err?.message ?? err}\n`);
  process.exit(1);
});
