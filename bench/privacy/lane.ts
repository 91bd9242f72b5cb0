/**
 * A CLI lane: one long-lived process that runs the real `rollcall` command line (its `main`, the
 * same parsing, commands and exit codes as `bin.ts`) once per message, so that thousands of
 * matches do not each pay a process start. Each message is `{ id, args }`; the reply is
 * `{ id, status, stderr }`. Started by `cli.ts` with `--conditions=source --import tsx`.
 */
import { pathToFileURL } from 'node:url';

interface Request {
  id: number;
  args: string[];
}

const entry = process.argv[2];
if (entry === undefined || process.send === undefined) {
  console.error('usage: fork lane.ts <path of the CLI module exporting main> (with an IPC channel)');
  process.exit(2);
}
const { main } = (await import(pathToFileURL(entry).href)) as {
  main: (argv: readonly string[]) => Promise<number>;
};

// One run at a time: the CLI writes its errors to process.stderr, captured per run.
let queue: Promise<void> = Promise.resolve();
process.on('message', (msg: Request) => {
  queue = queue.then(async () => {
    let stderr = '';
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
      return true;
    }) as typeof process.stderr.write;
    let status: number;
    try {
      status = await main(['node', 'rollcall', ...msg.args]);
    } catch (err) {
      status = 1;
      stderr += String(err);
    } finally {
      process.stderr.write = write;
    }
    process.send!({ id: msg.id, status, stderr });
  });
});
process.on('disconnect', () => process.exit(0));
