import { lstatSync, type Stats, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { FileError, fileErrorFrom, InvalidArgumentError } from '@rollcall/errors';

/** What a file that is not a regular file is, for messages. */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function statOrUndefined(stat: (path: string) => Stats, path: string): Stats | undefined {
  try {
    return stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fileErrorFrom(path, err, 'create output file');
  }
}

// The trees of device nodes and of process files (`/dev/stdout`, `/dev/null`, `/proc/self/fd/1`):
// renaming a file over one of them replaces the node itself, which as root breaks the machine.
const DEVICE_TREES = ['/dev', '/proc'];

/**
 * Checks that `target` can be an output written by rename: it does not exist, or it is a regular
 * file (or a link to one, which the rename replaces). Refuses, with `ERR_IO` naming the path, `-`
 * (standard output: an audience lists user ids, and rollcall prints none), any path under `/dev`
 * or `/proc`, a directory, a device, a FIFO and a socket, before anything is created.
 */
export function checkOutputPath(target: string): void {
  if (target === '-') {
    throw new FileError(
      target,
      'cannot create output file: "-" (standard output) is not an output rollcall writes; give a file path',
    );
  }
  const absolute = resolve(target);
  if (DEVICE_TREES.some((tree) => absolute === tree || absolute.startsWith(`${tree}${sep}`))) {
    throw new FileError(
      target,
      'cannot create output file: a device path is not a regular file; rollcall writes outputs only to regular files',
    );
  }
  const own = statOrUndefined(lstatSync, target);
  if (own === undefined || own.isFile()) return;
  // A symbolic link is replaced by the rename (its target is never written through): allowed when
  // it leads to a regular file or nowhere, refused when it leads to a directory or a device.
  const st = own.isSymbolicLink() ? statOrUndefined(statSync, target) : own;
  if (st === undefined || st.isFile()) return;
  if (st.isDirectory()) {
    throw fileErrorFrom(
      target,
      Object.assign(new Error('is a directory'), { code: 'EISDIR' }),
      'create output file',
    );
  }
  throw new FileError(
    target,
    `cannot create output file: it is ${kindOf(st)}; rollcall writes outputs only to regular files`,
  );
}

/**
 * Refuses an input that must be a regular file (an index is read at offsets) when it is a FIFO, a
 * socket or a device: opening a FIFO that has no writer would block, and nothing could stop it.
 * A missing path or a directory is left to the reader, whose error says so. Throws
 * `ERR_INVALID_ARGUMENT` naming `option`.
 */
export function checkRegularInput(option: string, path: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (st.isFile() || st.isDirectory()) return;
  throw new InvalidArgumentError(
    option,
    `"${path}" is ${kindOf(st)}, not a regular file; give the file itself`,
  );
}

/** True when two paths name the same file: the same resolved path, or (both existing) the same inode. */
export function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Refuses outputs that would overwrite an input (`--out customers.csv`, `index build x.csv -o
 * x.csv`) or each other: the job would destroy the data it reads, or one output would silently
 * replace another. Each entry is `[option, path]`; undefined paths are skipped, and `-` (standard
 * input) is never a file. Throws `ERR_INVALID_ARGUMENT` naming the output's option.
 */
export function checkDistinctPaths(
  outputs: ReadonlyArray<readonly [string, string | undefined]>,
  inputs: ReadonlyArray<readonly [string, string | undefined]>,
): void {
  const taken: Array<readonly [string, string]> = [];
  for (const [option, path] of inputs) if (path !== undefined && path !== '-') taken.push([option, path]);
  for (const [option, path] of outputs) {
    if (path === undefined) continue;
    const clash = taken.find(([, other]) => sameFile(path, other));
    if (clash !== undefined) {
      throw new InvalidArgumentError(option, `"${path}" is also given as ${clash[0]}; choose another path`);
    }
    taken.push([option, path]);
  }
}
