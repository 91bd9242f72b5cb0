/**
 * The privacy ledger of a cluster, in its Redis, so that every coordinator shares one ledger and
 * one secret: the same records as the embedded file ledger (`@rollcall/privacy`), one list per
 * advertiser, read and appended under a lock (SET NX PX with a token; released only by its holder).
 * Durability is Redis's: run it with AOF (`appendonly yes`, `appendfsync everysec` or `always`).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCodes, RollcallError } from '@rollcall/errors';
import type { Ledger, LedgerEntry, LedgerState } from '@rollcall/privacy';
import type { RedisLink } from './redis.js';

/** A lock older than this is another coordinator's that died holding it (ms). */
const LOCK_TTL_MS = 10_000;
/** Longest a match waits for the lock (ms). */
const LOCK_WAIT_MS = 30_000;

// Deletes the lock only if it still holds our token: never another holder's lock after ours expired.
const UNLOCK = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The ledger in the cluster's Redis under `<namespace>:ledger:…`. */
export class RedisLedger implements Ledger {
  readonly #link: RedisLink;
  readonly #ns: string;

  constructor(link: RedisLink, namespace: string) {
    this.#link = link;
    this.#ns = namespace;
  }

  get where(): string {
    return `${this.#link.where} (${this.#ns}:ledger)`;
  }

  async transact<T>(
    advertiser: string,
    sinceMs: number,
    decide: (state: LedgerState) => { append: LedgerEntry | null; result: T },
  ): Promise<T> {
    const r = this.#link.client;
    const base = `${this.#ns}:ledger`;
    const listKey = `${base}:adv:${Buffer.from(advertiser).toString('base64url')}`;
    const lockKey = `${listKey}:lock`;
    const token = randomBytes(16).toString('hex');
    const deadline = Date.now() + LOCK_WAIT_MS;
    try {
      // The secret: created once by whichever coordinator comes first.
      await r.set(`${base}:secret`, randomBytes(32).toString('hex'), 'NX');
      const secretHex = await r.get(`${base}:secret`);
      if (secretHex === null || !/^[0-9a-f]{64}$/.test(secretHex)) {
        throw new RollcallError(ErrorCodes.LEDGER, `the privacy ledger's secret at ${this.where} is damaged`);
      }
      while ((await r.set(lockKey, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') {
        if (Date.now() > deadline) {
          throw new RollcallError(
            ErrorCodes.LEDGER,
            `cannot lock the privacy ledger at ${this.where}: another match holds it; try again`,
          );
        }
        await new Promise((res) => setTimeout(res, 20 + Math.random() * 30));
      }
      try {
        const texts = await r.lrange(listKey, 0, -1);
        const all: LedgerEntry[] = [];
        for (const t of texts) {
          try {
            all.push(JSON.parse(t) as LedgerEntry);
          } catch {}
        }
        const entries = all.filter((e) => e.t >= sinceMs);
        const { append, result } = decide({ secret: Buffer.from(secretHex, 'hex'), entries });
        if (append !== null) {
          // Older entries than anyone looks at go, oldest first (the list is in time order).
          const stale = all.findIndex((e) => e.t >= sinceMs);
          const multi = r.multi().rpush(listKey, JSON.stringify(append));
          if (stale > 0) multi.ltrim(listKey, stale, -1);
          const out = await multi.exec();
          if (out === null || out.some(([err]) => err !== null)) {
            throw new RollcallError(
              ErrorCodes.LEDGER,
              `cannot append to the privacy ledger at ${this.where}`,
            );
          }
        }
        return result;
      } finally {
        await r.eval(UNLOCK, 1, lockKey, token).catch(() => {});
      }
    } catch (err) {
      if (err instanceof RollcallError) throw err;
      throw new RollcallError(
        ErrorCodes.LEDGER,
        `the privacy ledger at ${this.where} cannot be reached: ${this.#link.scrub((err as Error).message)}`,
      );
    }
  }
}
