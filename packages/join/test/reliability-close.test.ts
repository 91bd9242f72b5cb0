/**
 * Closing a pool never crashes the process. A short match with 2 threads could be over while the
 * second thread was still loading its entry, and terminating a thread in one window of that load
 * aborts the process (`FATAL ERROR: v8::Module::IsGraphAsync`, exit 134) after the outputs are
 * written; the pool now lets every thread finish loading before it terminates it (see
 * @rollcall/threads).
 *
 * The window exists only for built entries (loaded through require(esm)), so both tests run the
 * built packages (pnpm build) in plain node:
 * - by default, 300 pools in one child process, each closed right after a short match or at a
 *   random moment of its threads' start-up (fixtures/short-matches.mjs);
 * - with ROLLCALL_STRESS_CLI=1, also 300 short `rollcall match --threads 2` runs of the built CLI,
 *   two at a time (several minutes).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUILT_POOL = join(ROOT, 'packages/join/dist/pool.js');
const BUILT_BIN = join(ROOT, 'packages/cli/dist/bin.js');
const CYCLES = 300;
/** A guard against a hung run on a loaded machine, not a timing claim. */
const HEAVY_MS = 900_000;

describe('closing pools never crashes the process', () => {
  test(
    `${CYCLES} pools, each closed after a short match or while its threads start: no crash`,
    () => {
      expect(existsSync(BUILT_POOL), `${BUILT_POOL} is missing: run pnpm build first`).toBe(true);
      const r = spawnSync(
        process.execPath,
        [join(import.meta.dirname, 'fixtures/short-matches.mjs'), String(CYCLES), '20261129'],
        { cwd: ROOT, encoding: 'utf8', timeout: HEAVY_MS },
      );
      // The first line of stderr names a fatal error if there was one; the script prints no data.
      expect({ status: r.status, signal: r.signal, stderr: r.stderr.split('\n')[0] }).toEqual({
        status: 0,
        signal: null,
        stderr: '',
      });
      expect(r.stdout).toBe(`${CYCLES} cycles, ${CYCLES / 2} matches\n`);
    },
    HEAVY_MS,
  );

  test.runIf(process.env.ROLLCALL_STRESS_CLI === '1')(
    `${CYCLES} short matches by the built CLI with --threads 2: every one exits 0`,
    async () => {
      expect(existsSync(BUILT_BIN), `${BUILT_BIN} is missing: run pnpm build first`).toBe(true);
      const dir = mkdtempSync(join(tmpdir(), 'rollcall-stress-'));
      const statuses = new Map<string, number>();
      try {
        let next = 0;
        const lane = async () => {
          for (let i = next++; i < CYCLES; i = next++) {
            const child = spawn(
              process.execPath,
              [
                BUILT_BIN,
                'match',
                '--index',
                'fixtures/sample/index.csv',
                '--upload',
                'fixtures/sample/upload.csv',
                '--country',
                'GB',
                '--out',
                join(dir, `${i}.audience`),
                '--threads',
                '2',
                '--quiet',
              ],
              { cwd: ROOT, stdio: 'ignore' },
            );
            const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) =>
              child.on('close', (c, s) => done([c, s])),
            );
            const key = signal ?? String(code);
            statuses.set(key, (statuses.get(key) ?? 0) + 1);
          }
        };
        await Promise.all([lane(), lane()]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(Object.fromEntries(statuses)).toEqual({ '0': CYCLES });
    },
    HEAVY_MS * 4,
  );
});
