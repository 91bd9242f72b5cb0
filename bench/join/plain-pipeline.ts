/**
 * The plain pipeline the end-to-end figure is compared against, as an independent program would
 * write it: fast-csv streaming → libphonenumber-js/max parse + isValid → a Map of the index →
 * opted-out users dropped → a Set of ids, sorted → the audience file. One thread.
 *
 * It runs in its own process (`startPlainPipeline`), holding nothing but its own Map: in the bench
 * process it shared the heap with the hot join's baselines and ran at 43k rows/s where the same
 * code on its own ran at 64k (issue 17). Its index is read from the index CSV with the real ids
 * and opt-out flags, so its audience is rollcall's; building it is not timed (nor is rollcall's
 * index load).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { writeAudienceFile } from '@rollcall/join';
import { parse } from 'fast-csv';
import parsePhoneNumber from 'libphonenumber-js/max';

/** The plain index: phone key (E.164 digits as a number) → user id, and the opted-out users. */
interface PlainIndex {
  users: Map<number, bigint>;
  optedOut: Set<bigint>;
}

/** Reads `phone,user_id,opted_out` lines (the generator's CSV: no quoting) into a PlainIndex. */
function readPlainIndex(indexCsv: string): PlainIndex {
  const text = readFileSync(indexCsv, 'utf8');
  const users = new Map<number, bigint>();
  const optedOut = new Set<bigint>();
  for (let at = text.indexOf('\n') + 1; at > 0 && at < text.length; ) {
    const c1 = text.indexOf(',', at);
    const c2 = text.indexOf(',', c1 + 1);
    const end = text.indexOf('\n', at);
    const userId = BigInt(text.slice(c1 + 1, c2));
    users.set(Number(text.slice(at + 1, c1)), userId);
    // An opt-out is the person's: any opted-out number takes its user out.
    if (text.startsWith('true', c2 + 1)) optedOut.add(userId);
    at = end < 0 ? text.length : end + 1;
  }
  return { users, optedOut };
}

/** The pipeline itself; returns the rows read. */
async function plainPipeline(uploadCsv: string, index: PlainIndex, out: string): Promise<number> {
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
        const id = index.users.get(Number(p.number.slice(1)));
        if (id !== undefined && !index.optedOut.has(id)) ids.add(id);
      })
      .on('end', () => resolve());
  });
  writeAudienceFile(out, new BigUint64Array([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))));
  return rows;
}

/** A plain pipeline in its own process, its index loaded; `run` times one pass inside it. */
export interface PlainPipelineProcess {
  /** Runs the pipeline once; resolves with the rows read and the milliseconds it took there. */
  run(uploadCsv: string, out: string): Promise<{ rows: number; ms: number }>;
  close(): void;
}

type Reply = { ready: true } | { rows: number; ms: number } | { error: string };

/** Starts the child process and waits until its index is read. */
export async function startPlainPipeline(indexCsv: string): Promise<PlainPipelineProcess> {
  const child: ChildProcess = fork(new URL(import.meta.url), [indexCsv], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the plain pipeline exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as Reply);
      });
    });
  const ready = await next();
  if ('error' in ready) throw new Error(ready.error);
  return {
    async run(uploadCsv, out) {
      const reply = next();
      child.send({ uploadCsv, out });
      const r = await reply;
      if ('error' in r) throw new Error(r.error);
      if (!('rows' in r)) throw new Error('the plain pipeline answered out of turn');
      return r;
    },
    close: () => child.kill(),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.send) {
  const send = process.send.bind(process);
  const index = readPlainIndex(process.argv[2]!);
  process.on('message', (m: { uploadCsv: string; out: string }) => {
    const started = performance.now();
    plainPipeline(m.uploadCsv, index, m.out).then(
      (rows) => send({ rows, ms: performance.now() - started }),
      (err: unknown) => send({ error: String(err) }),
    );
  });
  send({ ready: true });
}
