/**
 * The attacks' platform and everyone's lists, from one seed: a platform of GB mobile users
 * (+4474…, each valid for libphonenumber-js's full metadata, some opted out), the attacker's targets
 * (half active users, half not on the platform), a pool of members the attacker knows, an endless
 * supply of valid numbers that are not on the platform, and the CSV spellings an upload may use.
 * Same seed, same world.
 */
import { writeFileSync } from 'node:fs';
import { isValidPhoneNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { prng } from '../../fixtures/generate.js';

/** One platform user as the index CSV holds it. */
export interface PlatformUser {
  e164: string;
  userId: bigint;
  optedOut: boolean;
}

/** A target the attacker asks about, and the truth about it (never shown to the attacker). */
export interface Target {
  e164: string;
  member: boolean;
}

/** Sizes of a world. */
export interface WorldOptions {
  seed: number;
  users: number;
  /** Share of users who opted out. */
  optOutRate: number;
  targets: number;
  /** Active members the attacker knows (none of them a target). */
  knownMembers: number;
}

/** The generated world. */
export interface World {
  users: readonly PlatformUser[];
  /** The attacker's targets: the first half members, the second half not on the platform. */
  targets: readonly Target[];
  /** Active members the attacker knows, in a fixed order. */
  known: readonly string[];
  /** Numbers that are not on the platform, valid, never handed out twice. */
  strangers: (n: number) => string[];
  /** A seeded random source for list shapes (padding sizes, junk, order), separate per use. */
  random: (label: string) => () => number;
  /** Writes the platform as an index CSV (`phone,user_id,opted_out`). */
  writeIndexCsv: (path: string) => void;
}

/** Cells an exported spreadsheet holds that are not phone numbers. */
const JUNK = ['N/A', 'call me', '12', '#REF!', '4.4207946E+11', 'unknown', '+44'];

/**
 * A valid GB mobile number in +4474. Some of +4474… is not valid, and +447457 6… is the Isle of
 * Man's (same calling code): a report lists it as its own country, whose lone number would withhold
 * every country's matched count, so it is drawn again.
 */
function gbMobile(rand: () => number): string {
  for (;;) {
    let digits = '';
    for (let i = 0; i < 8; i++) digits += Math.floor(rand() * 10);
    const e164 = `+4474${digits}`;
    if (parsePhoneNumberFromString(e164)?.country === 'GB' && isValidPhoneNumber(e164)) return e164;
  }
}

/** Builds the world of `options` (deterministic). */
export function makeWorld(options: WorldOptions): World {
  const rand = prng(options.seed);
  const taken = new Set<string>();
  const fresh = (): string => {
    for (;;) {
      const e164 = gbMobile(rand);
      if (!taken.has(e164)) {
        taken.add(e164);
        return e164;
      }
    }
  };
  const users: PlatformUser[] = [];
  const ids = new Set<bigint>();
  while (users.length < options.users) {
    const userId = BigInt(Math.floor(rand() * 2 ** 32)) * 2n ** 20n + BigInt(users.length + 1);
    if (ids.has(userId)) continue;
    ids.add(userId);
    users.push({ e164: fresh(), userId, optedOut: rand() < options.optOutRate });
  }
  const active = users.filter((u) => !u.optedOut).map((u) => u.e164);
  const half = Math.ceil(options.targets / 2);
  if (active.length < half + options.knownMembers) {
    throw new Error(`the world has ${active.length} active users: too few for its targets and known members`);
  }
  // Members as targets and known members, disjoint, drawn from the active users in a shuffled order.
  const shuffled = shuffle(active, prng(options.seed ^ 0x5eed));
  const targets: Target[] = [
    ...shuffled.slice(0, half).map((e164) => ({ e164, member: true })),
    ...Array.from({ length: options.targets - half }, () => ({ e164: fresh(), member: false })),
  ];
  const known = shuffled.slice(half, half + options.knownMembers);
  return {
    users,
    targets,
    known,
    strangers: (n) => Array.from({ length: n }, fresh),
    random: (label) => prng(options.seed ^ hashLabel(label)),
    writeIndexCsv: (path) => {
      const lines = ['phone,user_id,opted_out'];
      for (const u of users) lines.push(`${u.e164},${u.userId},${u.optedOut}`);
      writeFileSync(path, `${lines.join('\n')}\n`);
    },
  };
}

/** Fisher–Yates on a copy. */
export function shuffle<T>(items: readonly T[], rand: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** One spelling of a GB number as a UK spreadsheet might hold it. */
function spelling(e164: string, rand: () => number): string {
  const nsn = e164.slice(3); // 74xxxxxxxx
  switch (Math.floor(rand() * 5)) {
    case 0:
      return e164;
    case 1:
      return `0${nsn}`;
    case 2:
      return `+44 ${nsn.slice(0, 4)} ${nsn.slice(4)}`;
    case 3:
      return `0${nsn.slice(0, 4)} ${nsn.slice(4)}`;
    default:
      return `0044${nsn}`;
  }
}

/** How an upload looks beyond its set of numbers: none of this changes which numbers it holds. */
export interface ListShape {
  /** Junk rows to add (rejected by the normaliser). */
  junk?: number;
  /** Share of numbers repeated in another spelling. */
  repeats?: number;
}

/**
 * An upload CSV of `numbers` (header `phone`), with junk rows, repeats in other spellings and the
 * rows in a random order, as `rand` decides.
 */
export function uploadCsv(numbers: readonly string[], rand: () => number, shape: ListShape = {}): string {
  const rows: string[] = numbers.map((n) => spelling(n, rand));
  const repeats = Math.round(numbers.length * (shape.repeats ?? 0));
  for (let i = 0; i < repeats; i++) rows.push(spelling(numbers[Math.floor(rand() * numbers.length)]!, rand));
  for (let i = 0; i < (shape.junk ?? 0); i++) rows.push(JUNK[Math.floor(rand() * JUNK.length)]!);
  const quoted = shuffle(rows, rand).map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c));
  return `phone\n${quoted.join('\n')}\n`;
}
