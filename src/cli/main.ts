#!/usr/bin/env node
// The `nvmemu` executable. All behaviour lives in app.ts so that importing it does no work.
import { main } from './app.js';

process.exitCode = await main(process.argv.slice(2));
