#!/usr/bin/env node
import { main } from './program.js';

// Exit explicitly: stdout/stderr are synchronous for files and pipes on POSIX, so nothing is lost,
// and no stray handle can keep a finished command alive.
process.exit(await main(process.argv));
