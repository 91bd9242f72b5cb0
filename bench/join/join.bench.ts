/**
 * The join: (1) the hot join alone — probes/s through the worker pool at 1 and 2 threads on a
 * large index, against a `Map` join on one thread and DuckDB's hash join of the same keys; and
 * (2) end to end — a messy upload CSV to the audience file, against a plain single-threaded
 * pipeline (fast-csv → libphonenumber-js parsePhoneNumber + isValid → Map lookup). All in one run.
 *
 * Data (generated once, deterministic, cached in fixtures/large/): an index of 10M entries and a
 * 1M-row upload (200k and 20k with --quick).
 *
 * Run directly: `node --conditions=source --import tsx bench/join/join.bench.ts [--quick]`.
 */
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type IndexReader, openIndex, writeIndexFile } from '@rollcall/index';
import { createMatcher, JoinPool, writeAudienceFile } from '@rollcall/join';
import { parse } from 'fast-csv';
import parsePhoneNumber from 'libphonenumber-js/max';
import { Bench } from 'tinybench';
import { readIndexPhones, writeIndexCsv, writeUploadCsv } from '../../fixtures/generate.js';
import { type BenchResult, medianHz, type SuiteOptions } from '../result.js';

const SUITE = 'join';
const LARGE = join(import.meta.dirname, '../../fixtures/large');
/** Keys per pool task: large enough that a task's round trip is noise next to its probes. */
const PROBE_BATCH = 131_072;

interface Data {
  indexCsv: string;
  indexFile: string;
  uploadCsv: string;
  entries: number;
  rows: number;
}

/** Generates (once) the index CSV, its built file and the upload. */
async function prepare(quick: boolean): Promise<Data> {
  const entries = quick ? 200_000 : 10_000_000;
  const rows = quick ? 20_000 : 1_000_000;
  mkdirSync(LARGE, { recursive: true });
  const indexCsv = join(LARGE, `index-${entries}.csv`);
  const indexFile = join(LARGE, `index-${entries}.idx`);
  const uploadCsv = join(LARGE, `upload-${rows}-of-${entries}.csv`);
  if (!existsSync(indexCsv)) await writeIndexCsv(indexCsv, entries, 1);
  if (!existsSync(indexFile)) await writeIndexFile(indexCsv, indexFile);
  if (!existsSync(uploadCsv)) await writeUploadCsv(uploadCsv, rows, indexCsv, 'GB', 2, 0.5);
  return { indexCsv, indexFile, uploadCsv, entries, rows };
}

type PlainMap = Map<number, { id: bigint; optedOut: boolean }>;

/** The plain Map the baselines use: key → user id (bigint) and opted-out, from the index phones. */
function mapOf(phones: readonly string[]): PlainMap {
  const map: PlainMap = new Map();
  // Ids do not matter to the probe rate; a cheap stand-in keeps the baseline's build quick.
  for (let i = 0; i < phones.length; i++)
    map.set(Number(phones[i]!.slice(1)), { id: BigInt(i + 1), optedOut: false });
  return map;
}

/** Probe keys: half from the index, half (almost surely) absent. */
function probeKeys(phones: readonly string[], n: number): Float64Array {
  const keys = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    keys[i] = i % 2 === 0 ? Number(phones[s % phones.length]!.slice(1)) : 447_000_000_000 + (s % 999_999_999);
  }
  return keys;
}

/** The probe keys and answer arrays in shared memory: workers read and write them in place. */
interface SharedProbe {
  keys: Float64Array;
  found: Uint8Array;
  userIds: BigUint64Array;
}

function sharedProbe(keys: Float64Array): SharedProbe {
  const shared = new Float64Array(new SharedArrayBuffer(keys.byteLength));
  shared.set(keys);
  return {
    keys: shared,
    found: new Uint8Array(new SharedArrayBuffer(keys.length)),
    userIds: new BigUint64Array(new SharedArrayBuffer(8 * keys.length)),
  };
}

/** All keys through the pool, in shared memory; returns hits. */
function probeThroughPool(pool: JoinPool, probe: SharedProbe): Promise<number> {
  return pool.probeShared(probe.keys, probe.found, probe.userIds, { chunk: PROBE_BATCH });
}

/** DuckDB's hash join of the same keys (2 threads), if @duckdb/node-api loads here. */
async function duckdbJoin(
  indexCsv: string,
  keys: Float64Array,
): Promise<(() => Promise<number>) | undefined> {
  let duck: typeof import('@duckdb/node-api');
  try {
    duck = await import('@duckdb/node-api');
  } catch {
    return undefined;
  }
  const instance = await duck.DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  await conn.run(
    `CREATE TABLE idx AS SELECT CAST(substr(phone, 2) AS BIGINT) AS k, CAST(user_id AS UBIGINT) AS uid, opted_out FROM read_csv('${indexCsv}', header = true, columns = {'phone': 'VARCHAR', 'user_id': 'VARCHAR', 'opted_out': 'VARCHAR'})`,
  );
  await conn.run('CREATE TABLE probes (k BIGINT)');
  const appender = await conn.createAppender('probes');
  for (const k of keys) {
    appender.appendBigInt(BigInt(k));
    appender.endRow();
  }
  appender.closeSync();
  return async () => {
    const reader = await conn.runAndReadAll('SELECT count(*) AS hits FROM probes JOIN idx USING (k)');
    return Number(reader.getRows()[0]![0]);
  };
}

/** The plain single-threaded pipeline the end-to-end figure is compared against. */
async function plainPipeline(uploadCsv: string, map: PlainMap, out: string): Promise<number> {
  const ids = new Set<bigint>();
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    createReadStream(uploadCsv)
      .pipe(parse({ headers: true }))
      .on('error', reject)
      .on('data', (row: Record<string, string>) => {
        rows++;
        const p = parsePhoneNumber(row['Phone Number'] ?? '', 'GB');
        if (!p?.isValid()) return;
        const hit = map.get(Number(p.number.slice(1)));
        if (hit && !hit.optedOut) ids.add(hit.id);
      })
      .on('end', () => resolve());
  });
  writeAudienceFile(out, new BigUint64Array([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))));
  return rows;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** Runs the suite. */
export async function run(opts: SuiteOptions): Promise<BenchResult[]> {
  const data = await prepare(opts.quick);
  const out = mkdtempSync(join(tmpdir(), 'rollcall-bench-join-'));
  const results: BenchResult[] = [];
  try {
    const reader: IndexReader = await openIndex(data.indexFile);
    const phones = readIndexPhones(data.indexCsv);
    const keys = probeKeys(phones, opts.quick ? 200_000 : 2_000_000);
    const map = mapOf(phones);
    const pool1 = new JoinPool(reader.buffer, { threads: 1 });
    const pool2 = new JoinPool(reader.buffer, { threads: 2 });
    const duck = await duckdbJoin(data.indexCsv, keys);
    const probe = sharedProbe(keys);
    // Warm the pools: worker start-up is not part of the probe rate.
    await probeThroughPool(pool1, probe);
    await probeThroughPool(pool2, probe);

    const hot = new Bench({ iterations: opts.quick ? 3 : 7, time: 0, warmupIterations: 1 });
    hot
      .add('Map join, 1 thread', () => {
        let hits = 0;
        for (let i = 0; i < keys.length; i++) if (map.get(keys[i]!) !== undefined) hits++;
        if (hits < 0) throw new Error('unreachable');
      })
      .add('pool probe, 1 thread', async () => void (await probeThroughPool(pool1, probe)))
      .add('pool probe, 2 threads', async () => void (await probeThroughPool(pool2, probe)));
    if (duck) hot.add('DuckDB hash join, 2 threads', async () => void (await duck()));
    await hot.run();
    await pool1.close();
    await pool2.close();
    const mapHz = medianHz(hot, 'Map join, 1 thread', keys.length);
    const note = `${fmt(data.entries)}-entry index, ${fmt(keys.length)} probes (half hits)`;
    results.push({
      suite: SUITE,
      name: 'Map join, 1 thread (baseline)',
      hz: mapHz,
      unit: 'probes/s',
      notes: note,
    });
    const p1 = medianHz(hot, 'pool probe, 1 thread', keys.length);
    const p2 = medianHz(hot, 'pool probe, 2 threads', keys.length);
    results.push({
      suite: SUITE,
      name: 'pool probe, 1 thread',
      hz: p1,
      unit: 'probes/s',
      baseline: 'Map join',
      ratio: p1 / mapHz,
    });
    results.push({
      suite: SUITE,
      name: 'pool probe, 2 threads',
      hz: p2,
      unit: 'probes/s',
      baseline: 'Map join',
      ratio: p2 / mapHz,
      target: 5,
    });
    if (duck) {
      const duckHz = medianHz(hot, 'DuckDB hash join, 2 threads', keys.length);
      results.push({
        suite: SUITE,
        name: 'DuckDB hash join, 2 threads',
        hz: duckHz,
        unit: 'probes/s',
        notes: 'same keys, in-memory tables',
      });
      results.push({
        suite: SUITE,
        name: 'pool probe, 2 threads vs DuckDB',
        hz: p2,
        unit: 'probes/s',
        baseline: 'DuckDB',
        ratio: p2 / duckHz,
        target: 4,
      });
    }

    // End to end: upload file to audience file.
    const matcher = await createMatcher({ index: reader, threads: 2 });
    const e2e = new Bench({ iterations: opts.quick ? 2 : 3, time: 0, warmupIterations: 1 });
    const bytes = statSync(data.uploadCsv).size;
    e2e
      .add(
        'plain pipeline, 1 thread',
        async () => void (await plainPipeline(data.uploadCsv, map, join(out, 'plain.txt'))),
      )
      .add('rollcall match, 2 threads', async () => {
        const { audience } = await matcher.match({
          upload: data.uploadCsv,
          defaultCountry: 'GB',
          minAudience: 1,
        });
        if (audience) writeAudienceFile(join(out, 'rollcall.txt'), audience);
      });
    await e2e.run();
    await matcher.close();
    const plainHz = medianHz(e2e, 'plain pipeline, 1 thread', data.rows);
    const oursHz = medianHz(e2e, 'rollcall match, 2 threads', data.rows);
    const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const indexMb = Math.round(reader.buffer.byteLength / 2 ** 20);
    const e2eNote = `${fmt(data.rows)}-row upload (${Math.round(bytes / 2 ** 20)} MB); bench process peak RSS ${fmt(rssMb)} MB (index ${fmt(indexMb)} MB; includes the baselines' Map)`;
    results.push({
      suite: SUITE,
      name: 'plain pipeline, 1 thread (baseline)',
      hz: plainHz,
      unit: 'rows/s',
      notes: e2eNote,
    });
    results.push({
      suite: SUITE,
      name: 'end to end, 2 threads',
      hz: oursHz,
      unit: 'rows/s',
      baseline: 'plain pipeline',
      ratio: oursHz / plainHz,
      target: 4,
    });
    return results;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.table(await run({ quick: process.argv.includes('--quick') }));
}
