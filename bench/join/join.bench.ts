/**
 * The join: (1) the hot join alone — probes/s through the worker pool at 1 and 2 threads on a
 * large index, against a `Map` join on one thread and DuckDB's hash join of the same keys; and
 * (2) end to end — a messy upload CSV to the audience file, against a plain single-threaded
 * pipeline (fast-csv → libphonenumber-js parsePhoneNumber + isValid → Map lookup) run in its own
 * process (plain-pipeline.ts). All in one run; the tasks of each part take turns.
 *
 * Data (generated once, deterministic, cached in fixtures/large/): an index of 10M entries and a
 * 1M-row upload (200k and 20k with --quick).
 *
 * Run directly: `node --conditions=source --import tsx bench/join/join.bench.ts [--quick] [--columns]`
 * (`--columns`: only the figure of several phone columns against one).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type IndexReader, openIndex, writeIndexFile } from '@rollcall/index';
import { createMatcher, JoinPool, type Matcher, writeAudienceFile } from '@rollcall/join';
import { openUpload } from '@rollcall/upload';
import { readIndexPhones, writeIndexCsv, writeUploadCsv } from '../../fixtures/generate.js';
import { alternatingMedians, type BenchResult, type SuiteOptions } from '../result.js';
import { startPlainPipeline } from './plain-pipeline.js';

const SUITE = 'join';
const LARGE = join(import.meta.dirname, '../../fixtures/large');
/**
 * Keys per pool task in the hot join: 2^20, so the 2M probes make one task per thread at 2
 * threads, and each task is past the size at which `probeBatch` partitions its keys by the
 * table's high bits (2^19, reader.ts). The pool's default-sized tasks are measured beside it.
 */
const PROBE_BATCH = 1 << 20;
/** The earlier task size (below the partition threshold: input order, in rounds only). */
const SMALL_PROBE_BATCH = 131_072;

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

/**
 * The same phone cells as `uploadCsv`, three to a row (`Phone,Mobile,Work Phone`): a CRM export
 * holding the same numbers in a third of the rows, for the cost per number of several columns.
 */
async function writeMultiColumnCsv(uploadCsv: string, path: string): Promise<void> {
  const upload = await openUpload(uploadCsv);
  const cells: string[] = [];
  for await (const batch of upload.batches()) cells.push(...batch.cells);
  const quote = (c: string): string => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
  const lines = ['Phone,Mobile,Work Phone'];
  for (let i = 0; i < cells.length; i += 3) {
    lines.push([cells[i], cells[i + 1] ?? '', cells[i + 2] ?? ''].map((c) => quote(c ?? '')).join(','));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The Map of the hot join's baseline: key → user id and opted-out, from the index phones. */
function mapOf(phones: readonly string[]): Map<number, { id: bigint; optedOut: boolean }> {
  const map = new Map<number, { id: bigint; optedOut: boolean }>();
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

/** All keys through the pool, in shared memory, in tasks of `chunk` keys; returns hits. */
function probeThroughPool(pool: JoinPool, probe: SharedProbe, chunk = PROBE_BATCH): Promise<number> {
  return pool.probeShared(probe.keys, probe.found, probe.userIds, { chunk });
}

/** DuckDB's hash join of the same keys (2 threads), if @duckdb/node-api loads here. */
async function duckdbJoin(
  indexCsv: string,
  keys: Float64Array,
): Promise<{ join: () => Promise<number>; close: () => void } | undefined> {
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
  return {
    join: async () => {
      const reader = await conn.runAndReadAll('SELECT count(*) AS hits FROM probes JOIN idx USING (k)');
      return Number(reader.getRows()[0]![0]);
    },
    close: () => {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Whether two audience files (one id a line) hold the same ids, for the notes. */
function sameAudience(plainFile: string, oursFile: string): string {
  const plain = readFileSync(plainFile, 'utf8');
  const ours = readFileSync(oursFile, 'utf8');
  if (plain === ours) return `audience identical to rollcall's (${fmt(plain.split('\n').length - 1)} ids)`;
  const a = new Set(plain.split('\n'));
  const b = new Set(ours.split('\n'));
  const onlyPlain = [...a].filter((id) => !b.has(id)).length;
  const onlyOurs = [...b].filter((id) => !a.has(id)).length;
  return `audiences differ: ${fmt(onlyPlain)} ids only in the plain one, ${fmt(onlyOurs)} only in rollcall's`;
}

/** The hot join: probes/s of the same keys through the pool, a Map and DuckDB. */
async function hotJoin(data: Data, reader: IndexReader, opts: SuiteOptions): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
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
  await probeThroughPool(pool2, probe, SMALL_PROBE_BATCH);

  const small = `pool probe, 2 threads, ${fmt(SMALL_PROBE_BATCH)}-key tasks`;
  const contenders: Record<string, () => unknown> = {
    'Map join, 1 thread': () => {
      let hits = 0;
      for (let i = 0; i < keys.length; i++) if (map.get(keys[i]!) !== undefined) hits++;
      return hits;
    },
    'pool probe, 1 thread': () => probeThroughPool(pool1, probe),
    'pool probe, 2 threads': () => probeThroughPool(pool2, probe),
    [small]: () => probeThroughPool(pool2, probe, SMALL_PROBE_BATCH),
    ...(duck ? { 'DuckDB hash join, 2 threads': () => duck.join() } : {}),
  };
  const seconds = await alternatingMedians(contenders, opts.quick ? 3 : 9);
  await pool1.close();
  await pool2.close();
  duck?.close();
  const rate = (name: string) => keys.length / seconds[name]!;
  const mapHz = rate('Map join, 1 thread');
  const note = `${fmt(data.entries)}-entry index, ${fmt(keys.length)} probes (half hits)`;
  results.push({
    suite: SUITE,
    name: 'Map join, 1 thread (baseline)',
    hz: mapHz,
    unit: 'probes/s',
    notes: note,
  });
  const p1 = rate('pool probe, 1 thread');
  const p2 = rate('pool probe, 2 threads');
  const pSmall = rate(small);
  const tasks = `${fmt(PROBE_BATCH)}-key tasks (partitioned)`;
  results.push({
    suite: SUITE,
    name: 'pool probe, 1 thread',
    hz: p1,
    unit: 'probes/s',
    baseline: 'Map join',
    ratio: p1 / mapHz,
    notes: tasks,
  });
  results.push({
    suite: SUITE,
    name: 'pool probe, 2 threads',
    hz: p2,
    unit: 'probes/s',
    baseline: 'Map join',
    ratio: p2 / mapHz,
    target: 10,
    notes: `${tasks}; ${(p2 / pSmall).toFixed(2)}× the same pool in ${fmt(SMALL_PROBE_BATCH)}-key tasks`,
  });
  results.push({
    suite: SUITE,
    name: small,
    hz: pSmall,
    unit: 'probes/s',
    baseline: 'Map join',
    ratio: pSmall / mapHz,
    notes: 'below the partition threshold: input order, in rounds',
  });
  if (duck) {
    const duckHz = rate('DuckDB hash join, 2 threads');
    results.push({
      suite: SUITE,
      name: 'DuckDB hash join, 2 threads',
      hz: duckHz,
      unit: 'probes/s',
      notes: 'same keys, in-memory tables; count(*) of the join, its fastest form',
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
  return results;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Several phone columns: the same numbers, three to a row, against the one-column upload, in
 * numbers/s. Five rounds: the two are close, and on a shared machine one round moves by ±20%.
 */
async function phoneColumns(data: Data, matcher: Matcher, dir: string): Promise<BenchResult[]> {
  const multiCsv = join(dir, 'multi-column.csv');
  await writeMultiColumnCsv(data.uploadCsv, multiCsv);
  const seconds = await alternatingMedians(
    {
      'one phone column': () =>
        matcher.match({ upload: data.uploadCsv, defaultCountry: 'GB', minAudience: 1 }).then(() => {}),
      'three phone columns': () =>
        matcher.match({ upload: multiCsv, defaultCountry: 'GB', minAudience: 1 }).then(() => {}),
    },
    5,
  );
  const oneColumnHz = data.rows / seconds['one phone column']!;
  const multiColumnHz = data.rows / seconds['three phone columns']!;
  return [
    {
      suite: SUITE,
      name: 'one phone column, 2 threads (baseline)',
      hz: oneColumnHz,
      unit: 'numbers/s',
      notes: `the end-to-end upload again, in the same alternation as the three-column run`,
    },
    {
      suite: SUITE,
      name: 'three phone columns, 2 threads',
      hz: multiColumnHz,
      unit: 'numbers/s',
      baseline: 'one phone column',
      ratio: multiColumnHz / oneColumnHz,
      target: 1,
      notes: `the same ${fmt(data.rows)} phone cells, three to a row (${fmt(Math.ceil(data.rows / 3))} rows): the cost per number of several columns`,
    },
  ];
}

/** Runs only the figure of several phone columns (`--columns` when run directly). */
export async function runPhoneColumns(opts: SuiteOptions): Promise<BenchResult[]> {
  const data = await prepare(opts.quick);
  const out = mkdtempSync(join(tmpdir(), 'rollcall-bench-join-'));
  const matcher = await createMatcher({ index: await openIndex(data.indexFile), threads: 2 });
  try {
    return await phoneColumns(data, matcher, out);
  } finally {
    await matcher.close();
    rmSync(out, { recursive: true, force: true });
  }
}

/** Runs the suite. */
export async function run(opts: SuiteOptions): Promise<BenchResult[]> {
  const data = await prepare(opts.quick);
  const out = mkdtempSync(join(tmpdir(), 'rollcall-bench-join-'));
  const results: BenchResult[] = [];
  try {
    const reader: IndexReader = await openIndex(data.indexFile);
    results.push(...(await hotJoin(data, reader, opts)));
    // The hot join's Map, phones and DuckDB tables are gone from here on: neither end-to-end
    // figure pays for the other's memory (a 10M-entry Map makes every major GC slower).
    // End to end: upload file to audience file, against the plain pipeline in its own process.
    const plain = await startPlainPipeline(data.indexCsv);
    const matcher = await createMatcher({ index: reader, threads: 2 });
    const bytes = statSync(data.uploadCsv).size;
    const plainOut = join(out, 'plain.txt');
    const oursOut = join(out, 'rollcall.txt');
    const e2e = await alternatingMedians(
      {
        'plain pipeline, 1 thread': () => plain.run(data.uploadCsv, plainOut),
        'rollcall match, 2 threads': async () => {
          const { audience } = await matcher.match({
            upload: data.uploadCsv,
            defaultCountry: 'GB',
            minAudience: 1,
          });
          if (audience) writeAudienceFile(oursOut, audience);
        },
      },
      opts.quick ? 2 : 3,
    );
    plain.close();
    const columns = await phoneColumns(data, matcher, out);
    await matcher.close();
    const plainHz = data.rows / e2e['plain pipeline, 1 thread']!;
    const oursHz = data.rows / e2e['rollcall match, 2 threads']!;
    const rssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const indexMb = Math.round(reader.buffer.byteLength / 2 ** 20);
    const e2eNote = `${fmt(data.rows)}-row upload (${Math.round(bytes / 2 ** 20)} MB), in its own process with its own Map of the index (real ids and opt-outs); ${sameAudience(plainOut, oursOut)}; bench process peak RSS ${fmt(rssMb)} MB (index ${fmt(indexMb)} MB; includes the hot join's baselines)`;
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
    results.push(...columns);
    return results;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const opts = { quick: process.argv.includes('--quick') };
  console.table(await (process.argv.includes('--columns') ? runPhoneColumns(opts) : run(opts)));
}
