#!/usr/bin/env node
// mmc: the CLI, compiled from src/cli/ to dist/cli/ (npm run build).
import '../dist/cli/index.js';
