/**
 * An advertiser as the attacks and the honest figures use it: uploads a list through the real CLI
 * under its advertiser id and ledger, and reads back only what an advertiser may read (the report,
 * and the exit code). The operator's audit is asked for only by honest uploads, as ground truth.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliRunner } from './cli.js';

/** The platform-side counts of a report (each a protected estimate), null when withheld. */
export interface Released {
  matched: number | null;
  optedOutDropped: number | null;
  audience: number | null;
  /** The GB row of `by_country`: matched GB numbers. */
  gbMatched: number | null;
}

/** What an upload got: released (exit 0), suppressed (exit 3) or refused (exit 4, budget spent). */
export interface Answer {
  outcome: 'released' | 'suppressed' | 'refused';
  released: Released | null;
  /** The exact audience from `--audit` (operator only; honest uploads only). */
  exactAudience?: number;
}

/** What an advertiser sees of an answer, as one comparable string. */
export function signatureOf(a: Answer): string {
  return a.outcome === 'released' ? JSON.stringify(a.released) : a.outcome;
}

/**
 * The counts of a release that a member of the platform moves by one: `matched`, `audience` and
 * the GB `matched` (a target is an active GB number; `opted_out_dropped` does not move).
 */
export function memberCounts(r: Released): number[] {
  return [r.matched, r.audience, r.gbMatched].filter((x): x is number => x !== null);
}

/** Where and how an advertiser's uploads run. */
export interface Setting {
  cli: CliRunner;
  /** The built index file. */
  index: string;
  /** Scratch directory for uploads and reports. */
  dir: string;
}

/**
 * One advertiser (one id, one ledger file). With `sybil`, a refused upload is asked again under a
 * fresh advertiser id (after `onNewIdentity`, e.g. to redo the uploads an attack builds on), so
 * the budget is not counted; refusals are still counted.
 */
export class Advertiser {
  readonly name: string;
  readonly #setting: Setting;
  readonly #ledger: string;
  readonly #sybil: boolean;
  #identity = 0;
  #seq = 0;
  /** Uploads made (every CLI run, refused ones and setup included). */
  uploads = 0;
  /** Uploads refused (exit 4). */
  refused = 0;
  /** Runs after an identity change (set by the attack). */
  onNewIdentity: ((adv: Advertiser) => Promise<void>) | undefined;

  constructor(setting: Setting, name: string, options: { sybil?: boolean } = {}) {
    this.#setting = setting;
    this.name = name;
    this.#sybil = options.sybil ?? false;
    this.#ledger = join(setting.dir, `ledger-${name}.jsonl`);
  }

  /** Advertiser ids used so far. */
  get identities(): number {
    return this.#identity + 1;
  }

  /**
   * Uploads `csv` (a function of it is called again for an upload asked again under a new id);
   * with `audit`, also reads the exact audience (honest uploads only).
   */
  async ask(csv: string | (() => string), options: { audit?: boolean } = {}): Promise<Answer> {
    for (;;) {
      const answer = await this.#once(typeof csv === 'string' ? csv : csv(), options.audit ?? false);
      if (answer.outcome !== 'refused' || !this.#sybil) return answer;
      this.#identity++;
      await this.onNewIdentity?.(this);
    }
  }

  async #once(csv: string, audit: boolean): Promise<Answer> {
    const base = join(this.#setting.dir, `${this.name}-${this.#seq++}`);
    const files = { upload: `${base}.csv`, out: `${base}.ids`, report: `${base}.report.json` };
    const auditFile = `${base}.audit.json`;
    writeFileSync(files.upload, csv);
    const adv = this.#identity === 0 ? this.name : `${this.name}-${this.#identity}`;
    try {
      const run = await this.#setting.cli.run([
        'match',
        '--index',
        this.#setting.index,
        '--upload',
        files.upload,
        '--country',
        'GB',
        '--out',
        files.out,
        '--report',
        files.report,
        ...(audit ? ['--audit', auditFile] : []),
        '--advertiser',
        adv,
        '--ledger',
        this.#ledger,
        '--threads',
        '1',
        '-q',
      ]);
      this.uploads++;
      if (run.status === 4) {
        this.refused++;
        return { outcome: 'refused', released: null };
      }
      if (run.status !== 0 && run.status !== 3) {
        throw new Error(`rollcall match exited ${run.status}: ${run.stderr.trim()}`);
      }
      const report = JSON.parse(readFileSync(files.report, 'utf8')) as ReportJson;
      const answer: Answer = {
        outcome: run.status === 0 ? 'released' : 'suppressed',
        released:
          run.status === 0
            ? {
                matched: report.matched,
                optedOutDropped: report.opted_out_dropped,
                audience: report.audience,
                gbMatched: report.by_country?.find((c) => c.country === 'GB')?.matched ?? null,
              }
            : null,
      };
      if (audit) answer.exactAudience = (JSON.parse(readFileSync(auditFile, 'utf8')) as AuditJson).audience;
      return answer;
    } finally {
      for (const f of [...Object.values(files), auditFile]) rmSync(f, { force: true });
    }
  }
}

interface ReportJson {
  matched: number | null;
  opted_out_dropped: number | null;
  audience: number | null;
  by_country?: Array<{ country: string | null; matched: number | null }> | null;
}

interface AuditJson {
  audience: number;
}
