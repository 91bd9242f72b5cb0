import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PhoneKey } from '@rollcall/phone';
import { afterAll } from 'vitest';
import type { IndexRow } from '../src/index.js';

/** A small seeded PRNG (SplitMix32): the same seed gives the same data on every machine. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Prefixes of real mobile ranges (valid under the metadata once the rest is filled in). */
const PREFIXES: readonly [string, number][] = [
  ['+447400', 6], // GB mobile
  ['+1201555', 4], // US (NJ)
  ['+2547', 8], // KE mobile
  ['+4915', 9], // DE mobile
  ['+919', 9], // IN mobile
  ['+55119', 8], // BR São Paulo mobile
];

/** Edge user ids every data set holds: 1, 2^53 ± 1, 2^64 − 1. */
export const EDGE_USER_IDS: readonly bigint[] = [1n, (1n << 53n) - 1n, (1n << 53n) + 1n, (1n << 64n) - 1n];

/** `n` rows with distinct phones; about 20% opted out; many ids above 2^53; the edge ids first. */
export function makeRows(n: number, seed: number): IndexRow[] {
  const rand = prng(seed);
  const seen = new Set<string>();
  const rows: IndexRow[] = [];
  while (rows.length < n) {
    const [prefix, digits] = PREFIXES[Math.floor(rand() * PREFIXES.length)]!;
    let phone = prefix;
    for (let i = 0; i < digits; i++) phone += Math.floor(rand() * 10);
    if (seen.has(phone)) continue;
    seen.add(phone);
    const edge = EDGE_USER_IDS[rows.length];
    const hi = BigInt(Math.floor(rand() * 0x100000000));
    const lo = BigInt(Math.floor(rand() * 0x100000000));
    const userId = edge ?? (rand() < 0.5 ? (hi << 32n) | lo | 1n : lo + 1n);
    rows.push({ phone, userId, optedOut: rand() < 0.2 });
  }
  return rows;
}

/** The CSV text of rows (header first, LF line ends). */
export function csvOf(rows: readonly IndexRow[]): string {
  return `phone,user_id,opted_out\n${rows.map((r) => `${r.phone},${r.userId},${r.optedOut}`).join('\n')}\n`;
}

/** The key of an E.164 string. */
export function keyOf(phone: string): PhoneKey {
  return Number(phone.slice(1)) as PhoneKey;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test file. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rollcall-index-'));
  dirs.push(d);
  return d;
}

/** Writes `text` to `name` in `dir`; returns the path. */
export function writeText(dir: string, name: string, text: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Names in a directory (to check no temp file is left). */
export function filesIn(dir: string): string[] {
  return readdirSync(dir).sort();
}
