#!/usr/bin/env node
// The entry point: everything lives in dist/cli.js (built by `npm run build`).
import { endQuietlyOnClosedPipe, main } from '../dist/cli.js';

endQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
