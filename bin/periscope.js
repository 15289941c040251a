#!/usr/bin/env node
// Entry point for `npx periscope` / the package bin: runs the compiled CLI (built by `npm install`).
import '../build/cli/main.js';
