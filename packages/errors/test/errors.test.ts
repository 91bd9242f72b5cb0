import { describe, expect, test } from 'vitest';
import {
  ErrorCodes,
  errorFromData,
  FileError,
  fileErrorFrom,
  IndexCorruptError,
  InputError,
  InvalidArgumentError,
  RollcallError,
  type RollcallErrorData,
} from '../src/index.js';

/** An error's data as a worker thread (structured clone) and a shard worker (JSON) send it. */
const crossings: Array<[string, (data: RollcallErrorData) => RollcallErrorData]> = [
  ['structured clone', (data) => structuredClone(data)],
  ['JSON', (data) => JSON.parse(JSON.stringify(data)) as RollcallErrorData],
];

class DuplicateRowError extends InputError {}

describe.each(crossings)('errorFromData after a %s keeps the class and its facts', (_, cross) => {
  test('InvalidArgumentError: option, code, detail', () => {
    const sent = new InvalidArgumentError('defaultCountry', 'must be a country', ErrorCodes.UNKNOWN_COUNTRY);
    const got = errorFromData(cross(sent.toData()));
    expect(got).toBeInstanceOf(InvalidArgumentError);
    expect(got).toMatchObject({
      code: ErrorCodes.UNKNOWN_COUNTRY,
      option: 'defaultCountry',
      detail: 'must be a country',
      message: 'defaultCountry: must be a country',
      name: 'InvalidArgumentError',
    });
  });

  test('InputError: file, line, column', () => {
    const sent = new InputError({ file: 'up.csv', line: 7, column: 2 }, 'a bad cell');
    const got = errorFromData(cross(sent.toData()));
    expect(got).toBeInstanceOf(InputError);
    expect(got).toMatchObject({
      code: ErrorCodes.BAD_INPUT,
      position: { file: 'up.csv', line: 7, column: 2 },
      file: 'up.csv',
      line: 7,
      column: 2,
      detail: 'a bad cell',
      message: 'up.csv:7:2: a bad cell',
    });
  });

  test('IndexCorruptError and FileError: file, system error code', () => {
    const corrupt = errorFromData(cross(new IndexCorruptError('a.idx', 'truncated').toData()));
    expect(corrupt).toBeInstanceOf(IndexCorruptError);
    expect(corrupt).toMatchObject({ file: 'a.idx', detail: 'truncated', message: 'a.idx: truncated' });
    const enoent = Object.assign(new Error('gone'), { code: 'ENOENT' });
    const file = errorFromData(cross(fileErrorFrom('b.csv', enoent, 'read input').toData()));
    expect(file).toBeInstanceOf(FileError);
    expect(file).toMatchObject({
      code: ErrorCodes.IO,
      file: 'b.csv',
      syscallCode: 'ENOENT',
      message: 'b.csv: cannot read input: does not exist',
    });
  });

  test('a subclass of another package comes back as the class it extends, under its own name', () => {
    const got = errorFromData(cross(new DuplicateRowError({ file: 'x.csv', line: 3 }, 'twice').toData()));
    expect(got).toBeInstanceOf(InputError);
    expect(got).toMatchObject({ name: 'DuplicateRowError', line: 3, message: 'x.csv:3: twice' });
  });

  test('a shard: the field, and the message names it first', () => {
    const sent = new InputError({ file: 'in.csv', line: 4 }, 'bad');
    const got = errorFromData(cross(sent.toData()), { shard: 2, shardCount: 4 });
    expect(got).toBeInstanceOf(InputError);
    expect(got).toMatchObject({ shard: { shard: 2, shardCount: 4 }, line: 4, detail: 'bad' });
    expect(got.message).toBe('shard 2 of 4: in.csv:4: bad');
    // Sent on again, the shard goes with it.
    expect(errorFromData(cross(got.toData()))).toMatchObject({ message: got.message, shard: got.shard });
  });
});

describe('errorFromData of data without facts', () => {
  test('an older sender (code, message, name): a RollcallError with that message', () => {
    const got = errorFromData({ code: ErrorCodes.WORKER_FAILED, message: 'boom', name: 'RollcallError' });
    expect(got).toBeInstanceOf(RollcallError);
    expect(got).toMatchObject({ code: ErrorCodes.WORKER_FAILED, message: 'boom', detail: 'boom' });
  });

  test('an unknown code becomes ERR_INTERNAL', () => {
    const data = { code: 'ERR_NOPE', message: 'x', name: 'RollcallError' } as unknown as RollcallErrorData;
    expect(errorFromData(data).code).toBe(ErrorCodes.INTERNAL);
  });

  test('facts that do not fit the class keep the whole message', () => {
    const data: RollcallErrorData = {
      code: ErrorCodes.IO,
      message: 'p.csv:1: odd',
      name: 'InputError',
      detail: 'odd',
      kind: 'input',
      position: { file: 'p.csv', line: 1 },
    };
    const got = errorFromData(data);
    expect(got).not.toBeInstanceOf(InputError);
    expect(got).toMatchObject({ code: ErrorCodes.IO, message: 'p.csv:1: odd' });
  });
});

test('messages are as before: the place, then the detail; no cause unless given', () => {
  expect(new InvalidArgumentError('threads', 'must be ≥ 0').message).toBe('threads: must be ≥ 0');
  expect(new InputError({ file: 'f', line: 2 }, 'd').message).toBe('f:2: d');
  expect(new RollcallError(ErrorCodes.ABORTED, 'stopped').message).toBe('stopped');
  expect('cause' in new RollcallError(ErrorCodes.ABORTED, 'stopped')).toBe(false);
  expect(new FileError('f', 'd', { cause: 1 }).cause).toBe(1);
});
