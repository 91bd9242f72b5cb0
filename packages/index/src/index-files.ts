/**
 * The files of an index as an update sees them: one file, or every shard file of one sharded
 * build, in shard order, with their verified headers. Shared by `index update`, `index optout`
 * and `audience refresh`, which all need the whole index (a user's numbers may sit in any shard).
 */
import { InvalidArgumentError } from '@rollcall/errors';
import { type RawHeader, readVerifiedHeader } from './header.js';
import { readFileHead } from './load.js';

/** How `index build --shards` names shard files (see `shardFilePaths`). */
export const SHARD_FILE = /^(.*)\.shard-(\d+)-of-(\d+)\.idx$/;

async function verifiedHead(path: string): Promise<RawHeader> {
  return readVerifiedHeader((await readFileHead(path)).head, path);
}

/**
 * The files of an index and their headers, in shard order: the file itself when it is not
 * sharded; for one shard file, it and its siblings named as `index build --shards` named them;
 * for a list, those files, which must be every shard of one build. `what` words the refusal
 * ("an opt-out", "a change", …).
 */
export async function indexFiles(
  index: string | readonly string[],
  what = 'an update',
): Promise<{ files: string[]; heads: RawHeader[] }> {
  let files: string[];
  if (typeof index === 'string') {
    const head = await verifiedHead(index);
    if (head.shardCount === 1) return { files: [index], heads: [head] };
    const m = SHARD_FILE.exec(index);
    if (m === null || Number(m[2]) !== head.shard || Number(m[3]) !== head.shardCount) {
      throw new InvalidArgumentError(
        'index',
        `${index} is shard ${head.shard + 1} of ${head.shardCount}, but not named <prefix>.shard-${head.shard}-of-${head.shardCount}.idx as \`index build --shards\` names it: ${what} must reach every shard (a user's numbers may sit in any), so give every shard file`,
      );
    }
    files = Array.from({ length: head.shardCount }, (_, i) => `${m[1]}.shard-${i}-of-${head.shardCount}.idx`);
  } else {
    if (!Array.isArray(index) || index.length === 0 || index.some((f) => typeof f !== 'string' || f === '')) {
      throw new InvalidArgumentError('index', 'must be a file path or a non-empty list of shard file paths');
    }
    files = [...index];
  }
  const heads: RawHeader[] = [];
  for (const f of files) heads.push(await verifiedHead(f));
  const first = heads[0]!;
  const count = first.shardCount;
  const seen = new Set(heads.map((h) => h.shard));
  const oneBuild = heads.every(
    (h) => h.shardCount === count && h.hashSeed === first.hashSeed && h.builtAt === first.builtAt,
  );
  if (!oneBuild || seen.size !== heads.length || heads.length !== count) {
    throw new InvalidArgumentError(
      'index',
      `the files are not the ${count} shards of one build (each shard once, one shard count, seed and build time): ${what} must reach every shard`,
    );
  }
  const order = heads.map((_, i) => i).sort((a, b) => heads[a]!.shard - heads[b]!.shard);
  return { files: order.map((i) => files[i]!), heads: order.map((i) => heads[i]!) };
}

/** The generation of an index: the highest of its files' (shards an update left alone keep theirs). */
export function generationOf(heads: readonly RawHeader[]): number {
  return heads.reduce((a, h) => Math.max(a, h.generation), 0);
}

/** Bytes of the eligibility log that belong to the index as its headers say (the highest). */
export function logBytesOf(heads: readonly RawHeader[]): number {
  return heads.reduce((a, h) => Math.max(a, h.logBytes), 0);
}
