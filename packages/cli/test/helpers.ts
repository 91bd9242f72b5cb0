import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../../..');
/** The CLI's entry, run from source. */
export const BIN = join(ROOT, 'packages/cli/src/bin.ts');
/** tsx's loader by its file URL, for a CLI run from a working directory outside the checkout. */
const TSX_URL = pathToFileURL(
  join(dirname(createRequire(join(ROOT, 'package.json')).resolve('tsx/package.json')), 'dist/loader.mjs'),
).href;

/**
 * The argv after `node` that runs the CLI from source with `args`: `nodeArgs` (flags of node itself,
 * and `--import`s to preload) first. With `cwd` outside the checkout, tsx is given by its path.
 */
export function cliArgv(
  args: readonly string[],
  options: { nodeArgs?: readonly string[]; cwd?: string } = {},
): string[] {
  const tsx = options.cwd === undefined || options.cwd === ROOT ? 'tsx' : TSX_URL;
  return ['--conditions=source', '--import', tsx, ...(options.nodeArgs ?? []), BIN, ...args];
}

/** What a CLI run printed and returned. */
export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** How to run the binary: see {@link rollcall}. */
export interface SpawnOptions {
  /** Working directory. Default the repository root. */
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Flags of node itself (before the binary), e.g. `--max-old-space-size=64` or an `--import`. */
  nodeArgs?: readonly string[];
  /** Given on standard input (a pipe). */
  input?: string | Uint8Array;
  /** Run as this user and group (root only). */
  uid?: number;
  gid?: number;
  /** The node binary to run it with. Default this process's (`process.execPath`). */
  node?: string;
  /** Give up (kill it) after this many ms. Default 120 s. */
  timeoutMs?: number;
}

/** Runs the real `rollcall` binary (from source) with `args`, as a separate process. */
export function rollcall(args: readonly string[], options: SpawnOptions = {}): CliRun {
  const { uid, gid } = options;
  const r = spawnSync(options.node ?? process.execPath, cliArgv(args, options), {
    cwd: options.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    timeout: options.timeoutMs ?? 120_000,
    ...(options.input !== undefined ? { input: options.input } : {}),
    ...(uid !== undefined ? { uid } : {}),
    ...(gid !== undefined ? { gid } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The user a test runs the CLI as when it must not be root (root reads any file whatever its mode). */
const NOBODY = 65534;

/**
 * A node binary that `uid` can run: this process's own when that user can reach it, else a hard
 * link to it (a copy across file systems) in a new directory anyone can read. Node from
 * `npx node@24` lives under root's home, which other users cannot enter. The link goes when this
 * process exits.
 */
function nodeFor(uid: number, gid: number): string {
  const own = spawnSync(process.execPath, ['-e', ''], { uid, gid, timeout: 60_000 });
  if (own.error === undefined && own.status === 0) return process.execPath;
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-node-'));
  chmodSync(dir, 0o755);
  const node = join(dir, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return node;
}

/**
 * How to run the CLI without privileges, for tests of permission errors: as is when not root; as
 * root, as uid/gid 65534 (`nobody`), with a node binary that user can run (see {@link nodeFor}) —
 * but only when that user can reach the checkout and its `node_modules` (a clone inside a
 * directory other users cannot read cannot be run by them), which is checked by running the CLI's
 * `--help` as that user. Otherwise `skip` says why, for `ctx.skip`. `as` goes into
 * {@link rollcall}'s options.
 */
export function unprivilegedRun(): { as: { uid?: number; gid?: number; node?: string } } | { skip: string } {
  if (process.getuid?.() !== 0) return { as: {} };
  const node = nodeFor(NOBODY, NOBODY);
  const as = { uid: NOBODY, gid: NOBODY, node };
  const probe = spawnSync(node, cliArgv(['--help']), {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    uid: NOBODY,
    gid: NOBODY,
  });
  if (probe.error === undefined && probe.status === 0) return { as };
  const why =
    probe.error?.message ?? probe.stderr.split('\n').find((l) => l.trim() !== '') ?? `exit ${probe.status}`;
  return {
    skip: `user ${NOBODY} (nobody) cannot run the CLI from ${ROOT} (${why}): put the checkout where other users can read it to run this test`,
  };
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'rollcall-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A stack-trace line as Node prints one: what the CLI must never show a user. */
export const STACK_TRACE_LINE = /^\s+at /m;

/**
 * Runs the CLI's `main(argv)` in this process (no spawn), capturing what it prints: the same
 * parsing, commands and error mapping as the binary, at a fraction of the cost of a process, for
 * tests that try many inputs. Signals, exit handling and environment hooks read at start-up need
 * {@link rollcall}. `env` is set for the duration of the run and then restored.
 */
export async function rollcallInProcess(
  args: readonly string[],
  options: { env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  const { main } = await import('../src/program.js');
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(options.env ?? {})) {
    saved.set(key, process.env[key]);
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  let stdout = '';
  let stderr = '';
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const capture =
    (append: (s: string) => void) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    };
  process.stdout.write = capture((s) => {
    stdout += s;
  }) as typeof process.stdout.write;
  process.stderr.write = capture((s) => {
    stderr += s;
  }) as typeof process.stderr.write;
  try {
    const status = await main(['node', 'rollcall', ...args]);
    return { status, stdout, stderr };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** A CLI process started in the background, for tests that signal it while it works. */
export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process has exited, with what it printed. */
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/**
 * Starts the real `rollcall` binary without waiting for it. With `limitMs`, `done` gives up after
 * that long: the process is killed (SIGKILL) and its status is null.
 */
export function rollcallStart(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; limitMs?: number } = {},
): CliProcess {
  const child = spawn(process.execPath, cliArgv(args), {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve) => {
    const timer =
      options.limitMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.limitMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
  return { child, done };
}

// Preloaded into a measured CLI process: on exit, writes its peak resident set size (KiB, worker
// threads included: they share the process) to the file named by ROLLCALL_TEST_RSS_FILE.
const RSS_PROBE = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs';" +
    "process.on('exit', () => writeFileSync(process.env.ROLLCALL_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)));",
)}`;

/**
 * Runs the real `rollcall` binary and returns, besides its output, its peak RSS in MiB. `nodeArgs`
 * go to node itself (e.g. `--max-old-space-size=64`, which the worker threads inherit).
 */
export function rollcallPeakRss(
  args: readonly string[],
  options: { nodeArgs?: readonly string[] } = {},
): CliRun & { peakRssMiB: number } {
  const probe = join(scratchDir('rollcall-rss-'), 'maxrss');
  const r = rollcall(args, {
    nodeArgs: [...(options.nodeArgs ?? []), '--import', RSS_PROBE],
    env: { ROLLCALL_TEST_RSS_FILE: probe },
    timeoutMs: 300_000,
  });
  const kib = Number(readFileSync(probe, 'utf8'));
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, peakRssMiB: kib / 1024 };
}

/** Files in `dir` (recursively) that are an atomic output's temp file: `.<name>.<pid>.<hex>.tmp`. */
export function tempFilesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tmp$/.test(f));
}

/** Resolves when `predicate` holds, checking every 20 ms; rejects after `limitMs` (a hung run, not a timing claim). */
export async function waitFor(predicate: () => boolean, what: string, limitMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One entry of a test platform's index. */
export interface PlatformEntry {
  phone: string;
  userId: bigint;
  optedOut: boolean;
}

/** A small platform: its index CSV, the index file built from it by the CLI, and the entries. */
export interface Platform {
  dir: string;
  indexCsv: string;
  indexFile: string;
  entries: PlatformEntry[];
}

/**
 * Builds a platform of `entries` numbers with fixtures/generate.ts (deterministic for a seed) and
 * runs `rollcall index build` on it (in process). `withSha256` adds the section hashed uploads need.
 */
export async function makePlatform(
  options: { entries?: number; seed?: number; withSha256?: boolean } = {},
): Promise<Platform> {
  const { indexRows } = await import('../../../fixtures/generate.js');
  const dir = scratchDir('rollcall-platform-');
  const lines = [...indexRows(options.entries ?? 400, options.seed ?? 7)];
  const indexCsv = join(dir, 'platform.csv');
  writeFileSync(indexCsv, `${lines.join('\n')}\n`);
  const entries = lines.slice(1).map((line) => {
    const [phone, userId, optedOut] = line.split(',');
    return { phone: phone!, userId: BigInt(userId!), optedOut: optedOut === 'true' };
  });
  const indexFile = join(dir, 'platform.idx');
  const build = await rollcallInProcess([
    'index',
    'build',
    indexCsv,
    '-o',
    indexFile,
    '--quiet',
    ...(options.withSha256 ? ['--with-sha256'] : []),
  ]);
  if (build.status !== 0) throw new Error(`index build failed: ${build.stderr}`);
  return { dir, indexCsv, indexFile, entries };
}

/** What a match of some cells must give, worked out without the join: by the reference normaliser and a Map. */
export interface ExpectedOutcome {
  rows: number;
  invalid: number;
  valid: number;
  unique: number;
  matched: number;
  opted_out_dropped: number;
  audience: number;
  invalid_by_reason: Record<string, number>;
  /** The audience file's text. */
  audienceText: string;
  /** Per row: the reject reason, or null when valid. */
  reasons: Array<string | null>;
}

/**
 * The outcome of matching `cells` (MALFORMED where `malformed[i]`) against `entries`: each cell through
 * `normalizePhoneReference`, then a Map lookup; users who opted out under any matched number dropped.
 */
export async function expectedOutcome(
  entries: readonly PlatformEntry[],
  cells: readonly string[],
  country: string,
  malformed: readonly boolean[] = [],
): Promise<ExpectedOutcome> {
  const { normalizePhoneReference, REJECT_REASONS } = await import('@rollcall/phone');
  const byPhone = new Map(entries.map((e) => [e.phone, e]));
  const invalidByReason: Record<string, number> = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0]));
  const reasons: Array<string | null> = [];
  const unique = new Set<string>();
  for (let i = 0; i < cells.length; i++) {
    const r = malformed[i]
      ? ({ ok: false, reason: 'MALFORMED_ROW' } as const)
      : normalizePhoneReference(cells[i]!, { defaultCountry: country as 'GB' });
    if (r.ok) {
      unique.add(r.e164);
      reasons.push(null);
    } else {
      invalidByReason[r.reason]!++;
      reasons.push(r.reason);
    }
  }
  const matched = [...unique].map((p) => byPhone.get(p)).filter((e) => e !== undefined);
  const optedOutUsers = new Set(matched.filter((e) => e.optedOut).map((e) => e.userId));
  const audience = [...new Set(matched.filter((e) => !e.optedOut).map((e) => e.userId))]
    .filter((id) => !optedOutUsers.has(id))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const invalid = reasons.filter((r) => r !== null).length;
  return {
    rows: cells.length,
    invalid,
    valid: cells.length - invalid,
    unique: unique.size,
    matched: matched.length,
    opted_out_dropped: matched.filter((e) => e.optedOut).length,
    audience: audience.length,
    invalid_by_reason: invalidByReason,
    audienceText: audience.map((id) => `${id}\n`).join(''),
    reasons,
  };
}

/** Parses CSV text (RFC 4180: `,`, `"` quoting, `""` escapes, CRLF or LF) into records of fields. */
export function parseCsv(text: string, delimiter = ','): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === delimiter) {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

const scratchDirs: string[] = [];

/** A fresh temporary directory that {@link removeScratchDirs} deletes with everything in it. */
export function scratchDir(prefix = 'rollcall-test-'): string {
  const dir = tempDir(prefix);
  scratchDirs.push(dir);
  return dir;
}

/** Deletes every {@link scratchDir} made so far (call it in `afterAll`: some tests write hundreds of MB). */
export function removeScratchDirs(): void {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The outputs a `match` may be asked for: each flag, and the file it names in the run's directory. */
export const MATCH_OUTPUTS = {
  audience: ['--out', 'audience.txt'],
  report: ['--report', 'report.json'],
  audit: ['--audit', 'audit.json'],
  rejects: ['--rejects', 'rejects.csv'],
  html: ['--report-html', 'report.html'],
} as const;

/** One of {@link MATCH_OUTPUTS}. */
export type MatchOutput = keyof typeof MATCH_OUTPUTS;

/** A `match` run of a test: see {@link matchArgs}. */
export interface MatchOptions {
  /** `--index`: a built index file or a source CSV. */
  index: string;
  /** `--upload`. */
  upload: string;
  /** Where the outputs go, under the names of {@link MATCH_OUTPUTS}. */
  dir: string;
  /** `--country`. Default GB. */
  country?: string;
  /** The outputs asked for besides the audience (always asked for). Default: report, audit and rejects. */
  outputs?: readonly Exclude<MatchOutput, 'audience'>[];
  /** `--min-audience`; null leaves the flag out (the default floor). Default 1. */
  minAudience?: number | null;
  /** `--threads`; null leaves the flag out (one per core). Default 1. */
  threads?: number | null;
  /** `--quiet` (no summary on stdout). Default true. */
  quiet?: boolean;
  /** More arguments, last. */
  extra?: readonly string[];
}

/**
 * The argv of `rollcall match` for a test: the index, the upload, the country, the outputs in
 * `dir`, then the floor, the threads, `--quiet` and `extra`, each as {@link MatchOptions} says.
 * Give it to any runner: {@link rollcallInProcess}, {@link rollcall}, {@link rollcallStart}, ….
 */
export function matchArgs(o: MatchOptions): string[] {
  const args = ['match', '--index', o.index, '--upload', o.upload, '--country', o.country ?? 'GB'];
  for (const output of ['audience', ...(o.outputs ?? ['report', 'audit', 'rejects'])] as const) {
    const [flag, name] = MATCH_OUTPUTS[output];
    args.push(flag, join(o.dir, name));
  }
  const minAudience = o.minAudience === undefined ? 1 : o.minAudience;
  if (minAudience !== null) args.push('--min-audience', String(minAudience));
  const threads = o.threads === undefined ? 1 : o.threads;
  if (threads !== null) args.push('--threads', String(threads));
  if (o.quiet ?? true) args.push('--quiet');
  return [...args, ...(o.extra ?? [])];
}

/** Runs {@link matchArgs} in process (see {@link rollcallInProcess}). */
export function matchInProcess(
  o: MatchOptions,
  options: { env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  return rollcallInProcess(matchArgs(o), options);
}

/** The path of a match output in `dir`. */
export function outputPath(dir: string, output: MatchOutput): string {
  return join(dir, MATCH_OUTPUTS[output][1]);
}

/** A text output of a match in `dir`: the audience, the rejects CSV or the HTML report. */
export function readOutput(dir: string, output: 'audience' | 'rejects' | 'html'): string {
  return readFileSync(outputPath(dir, output), 'utf8');
}

/** A JSON output of a match in `dir`, parsed: the advertiser's report or the operator's (exact) audit. */
export function readJsonOutput(dir: string, output: 'report' | 'audit') {
  return JSON.parse(readFileSync(outputPath(dir, output), 'utf8'));
}

/** Writes an upload `name` (default `upload.csv`) in `dir`; returns its path. */
export function writeUpload(dir: string, content: string | Uint8Array, name = 'upload.csv'): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/**
 * A messy upload of `rows` rows (fixtures/generate.ts `uploadRows`, deterministic for a seed) of
 * the platform's numbers and others, written as `upload.csv` in the platform's directory.
 */
export async function platformUpload(
  platform: Platform,
  rows: number,
  seed: number,
): Promise<{ path: string; lines: string[]; text: string }> {
  const { uploadRows } = await import('../../../fixtures/generate.js');
  const lines = [
    ...uploadRows(
      rows,
      platform.entries.map((e) => e.phone),
      'GB',
      seed,
    ),
  ];
  const text = `${lines.join('\n')}\n`;
  return { path: writeUpload(platform.dir, text), lines, text };
}
