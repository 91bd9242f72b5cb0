/**
 * Bad options to the public functions are coded errors naming the option (never a TypeError, never
 * a CLI flag), thrown before any work: an index path that does not exist is never reached when an
 * option of the match is wrong.
 */
import { describe, expect, test } from 'vitest';
import * as rollcall from '../src/index.js';

const MISSING_INDEX = '/nonexistent/platform.idx';
const good = { index: MISSING_INDEX, upload: ['07400 123456'], defaultCountry: 'GB' } as const;

/** [case, options, the option the error must name, its code]. */
const BAD_MATCH_UPLOAD: ReadonlyArray<readonly [string, unknown, string, string]> = [
  ['no options at all', undefined, 'options', 'ERR_INVALID_ARGUMENT'],
  ['null', null, 'options', 'ERR_INVALID_ARGUMENT'],
  ['a string', 'customers.csv', 'options', 'ERR_INVALID_ARGUMENT'],
  ['an array', [good], 'options', 'ERR_INVALID_ARGUMENT'],
  ['upload: 42', { ...good, upload: 42 }, 'upload', 'ERR_INVALID_ARGUMENT'],
  ['no upload', { index: MISSING_INDEX, defaultCountry: 'GB' }, 'upload', 'ERR_INVALID_ARGUMENT'],
  [
    'upload: cells not strings',
    { ...good, upload: ['07400 123456', 7400123456] },
    'upload',
    'ERR_INVALID_ARGUMENT',
  ],
  ['no index', { upload: ['1'], defaultCountry: 'GB' }, 'index', 'ERR_INVALID_ARGUMENT'],
  ['index: 42', { ...good, index: 42 }, 'index', 'ERR_INVALID_ARGUMENT'],
  ['index: an empty path', { ...good, index: '' }, 'index', 'ERR_INVALID_ARGUMENT'],
  ['index: a plain object', { ...good, index: {} }, 'index', 'ERR_INVALID_ARGUMENT'],
  ['defaultCountry: ZZ', { ...good, defaultCountry: 'ZZ' }, 'defaultCountry', 'ERR_UNKNOWN_COUNTRY'],
  ['defaultCountry: 44', { ...good, defaultCountry: 44 }, 'defaultCountry', 'ERR_UNKNOWN_COUNTRY'],
  ['threads: 0', { ...good, threads: 0 }, 'threads', 'ERR_INVALID_ARGUMENT'],
  ['threads: "2"', { ...good, threads: '2' }, 'threads', 'ERR_INVALID_ARGUMENT'],
  ['retries: -1', { ...good, retries: -1 }, 'retries', 'ERR_INVALID_ARGUMENT'],
  ['verifyChecksum: "no"', { ...good, verifyChecksum: 'no' }, 'verifyChecksum', 'ERR_INVALID_ARGUMENT'],
  ['minAudience: 0', { ...good, minAudience: 0 }, 'minAudience', 'ERR_INVALID_ARGUMENT'],
  ['minAudience: 1.5', { ...good, minAudience: 1.5 }, 'minAudience', 'ERR_INVALID_ARGUMENT'],
  ['batchSize: 0', { ...good, batchSize: 0 }, 'batchSize', 'ERR_INVALID_ARGUMENT'],
  ['hashed: "md5"', { ...good, hashed: 'md5' }, 'hashed', 'ERR_INVALID_ARGUMENT'],
  ['phoneColumn: 3', { ...good, phoneColumn: 3 }, 'phoneColumn', 'ERR_INVALID_ARGUMENT'],
  ['phoneColumn: []', { ...good, phoneColumn: [] }, 'phoneColumn', 'ERR_INVALID_ARGUMENT'],
  ['delimiter: 44', { ...good, delimiter: 44 }, 'delimiter', 'ERR_INVALID_ARGUMENT'],
  ['countryColumn: 5', { ...good, countryColumn: 5 }, 'countryColumn', 'ERR_INVALID_ARGUMENT'],
  ['strict: "yes"', { ...good, strict: 'yes' }, 'strict', 'ERR_INVALID_ARGUMENT'],
  ['rejects: 1', { ...good, rejects: 1 }, 'rejects', 'ERR_INVALID_ARGUMENT'],
  ['ledger: 1', { ...good, ledger: 1 }, 'ledger', 'ERR_INVALID_ARGUMENT'],
  ['advertiser: "a b"', { ...good, advertiser: 'a b' }, 'advertiser', 'ERR_INVALID_ARGUMENT'],
  ['privacy: "strict"', { ...good, privacy: 'strict' }, 'privacy', 'ERR_INVALID_ARGUMENT'],
  ['signal: true', { ...good, signal: true }, 'signal', 'ERR_INVALID_ARGUMENT'],
  ['onProgress: "log"', { ...good, onProgress: 'log' }, 'onProgress', 'ERR_INVALID_ARGUMENT'],
];

/** The error `run` rejects with (it must reject). */
async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('matchUpload: bad options', () => {
  test.each(BAD_MATCH_UPLOAD)('%s: a coded error naming the option', async (_, options, option, code) => {
    const err = await failure(() => rollcall.matchUpload(options as rollcall.MatchUploadOptions));
    expect(err).toBeInstanceOf(rollcall.InvalidArgumentError);
    expect(err).not.toBeInstanceOf(TypeError);
    const e = err as rollcall.InvalidArgumentError;
    expect({ code: e.code, option: e.option }).toEqual({ code, option });
    // The library speaks of its options, never of the CLI's flags.
    expect(e.message).not.toMatch(/--[a-z]/);
  });
});

describe('createMatcher and Matcher.match: bad options', () => {
  test.each([
    ['no options', undefined, 'options'],
    ['index: 42', { index: 42 }, 'index'],
    ['threads: 257', { index: MISSING_INDEX, threads: 257 }, 'threads'],
  ])('createMatcher, %s: a coded error naming the option', async (_, options, option) => {
    const err = (await failure(() =>
      rollcall.createMatcher(options as rollcall.MatcherOptions),
    )) as rollcall.InvalidArgumentError;
    expect(err).toBeInstanceOf(rollcall.InvalidArgumentError);
    expect(err.option).toBe(option);
  });

  test('match(): every bad option of one match, then a good one on the same matcher', async () => {
    const { reader } = await rollcall.buildIndexFromRows([
      { phone: '+447400123456', userId: 1n, optedOut: false },
    ]);
    const matcher = await rollcall.createMatcher({ index: reader, threads: 1 });
    try {
      for (const [name, options, option, code] of BAD_MATCH_UPLOAD) {
        if (['options', 'index', 'threads', 'retries', 'verifyChecksum'].includes(option)) continue;
        const { index: _, ...matchOptions } = (options ?? {}) as Record<string, unknown>;
        const err = (await failure(() =>
          matcher.match(matchOptions as unknown as rollcall.MatchOptions),
        )) as rollcall.InvalidArgumentError;
        expect({ name, code: err.code, option: err.option }).toEqual({ name, code, option });
      }
      const { audit } = await matcher.match({
        upload: ['07400 123456'],
        defaultCountry: 'GB',
        minAudience: 1,
        ledger: new rollcall.MemoryLedger(),
      });
      expect(audit.matched).toBe(1);
    } finally {
      await matcher.close();
    }
  });

  test('a missing index file is ERR_IO, once the options are good', async () => {
    const err = (await failure(() => rollcall.matchUpload(good))) as rollcall.RollcallError;
    expect(err.code).toBe('ERR_IO');
  });
});
