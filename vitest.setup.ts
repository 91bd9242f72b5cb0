// Each test file gets its own state directory, so the privacy ledger (and its budget) of one file's
// matches never meets another's, and no test writes to the user's real ~/.local/state.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'rollcall-test-state-'));
