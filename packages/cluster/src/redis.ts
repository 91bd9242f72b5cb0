/**
 * Redis URLs and connections: checked once, passed to ioredis as given (a password and `rediss://`
 * TLS go through untouched), and never printed with their password.
 */
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { Redis } from 'ioredis';

/** Shown in place of a password (and of a URL too broken to redact piece by piece). */
const REDACTED = '***';

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * Checks a Redis URL (`redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS) and
 * returns it unchanged. Throws `InvalidArgumentError` naming `option`; the message never repeats
 * the URL's password.
 */
export function checkRedisUrl(url: unknown, option = 'redis'): string {
  if (typeof url !== 'string' || url === '') {
    throw new InvalidArgumentError(option, 'must be a Redis URL such as redis://127.0.0.1:6379');
  }
  const u = parse(url);
  if (u === undefined || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') {
    throw new InvalidArgumentError(
      option,
      `must be a redis:// or rediss:// URL with a host, got "${redactRedisUrl(url)}"`,
    );
  }
  return url;
}

/**
 * The parts of a URL that may be a secret: its password and, when it has no password, its user
 * name too (`redis://S3cr3t@host` is a password written in the user's slot; Redis has no way to
 * tell, so neither do we).
 */
function secretsOf(u: URL): string[] {
  return u.password !== '' ? [u.password] : u.username !== '' ? [u.username] : [];
}

/**
 * The URL with its password replaced by `***` (and its user name, when there is no password: it
 * may be the password written without the `:`), for messages and logs. A string that is not a URL
 * at all comes back as `***` when it holds an `@` (it may hold a password), else as is.
 */
export function redactRedisUrl(url: string): string {
  const u = parse(url);
  if (u === undefined) return url.includes('@') ? REDACTED : url;
  if (u.password !== '') u.password = REDACTED;
  else if (u.username !== '') u.username = REDACTED;
  return u.toString();
}

/**
 * `text` with every spelling of the URL's secrets (see {@link redactRedisUrl}; as written and
 * percent-decoded) replaced by `***`: for error messages that come from Redis or a driver and
 * might echo them.
 */
export function scrubSecrets(text: string, url: string): string {
  const u = parse(url);
  if (u === undefined) return text;
  let out = text;
  for (const secret of new Set(secretsOf(u).flatMap((s) => [s, safeDecode(s)]))) {
    if (secret.length > 0) out = out.split(secret).join(REDACTED);
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A Redis connection and the last connection error seen on it (its message scrubbed). */
export interface RedisLink {
  readonly client: Redis;
  /** The URL with its password redacted. */
  readonly where: string;
  /**
   * What went wrong with Redis itself, for messages that would otherwise blame someone else: the
   * last connection error since the last successful connect, or else, once Redis has restarted
   * while this link was open (its run id changed: what it held in memory, queued jobs and worker
   * registrations, may be gone), a sentence saying when. Undefined while Redis has been sound.
   */
  lastError(): string | undefined;
  /** {@link scrubSecrets} for this connection's URL. */
  scrub(text: string): string;
}

/**
 * Opens a connection to `url` for BullMQ and our own commands. `maxRetriesPerRequest: null` is
 * what BullMQ requires of a worker's connection: commands wait for a reconnect instead of
 * failing after a few tries; callers bound every wait with their own deadline instead.
 */
export function openRedis(url: string, name: string): RedisLink {
  let lastError: string | undefined;
  /** The run id of the Redis server first connected to; another one later means it restarted. */
  let runId: string | undefined;
  let restart: string | undefined;
  const client = new Redis(url, {
    maxRetriesPerRequest: null,
    connectionName: name,
    // Reconnect quickly at first, then every 2 s: a restarted Redis is found again promptly.
    retryStrategy: (times) => Math.min(50 * times, 2000),
  });
  // Without a listener ioredis prints every connection error to the console itself.
  client.on('error', (err: Error) => {
    lastError = scrubSecrets(err.message, url);
  });
  client.on('ready', () => {
    lastError = undefined;
    // A reconnect after a network blip finds the same server; after a restart, another run id.
    // Best effort: a server that refuses INFO simply tells us nothing.
    client.info('server').then(
      (info) => {
        const id = /^run_id:(\S+)/m.exec(info)?.[1];
        if (id === undefined) return;
        if (runId !== undefined && id !== runId) {
          restart = `Redis restarted at ${new Date().toISOString()} (its run id changed), so what it held before (queued jobs, worker registrations) may be gone`;
        }
        runId = id;
      },
      () => {},
    );
  });
  return {
    client,
    where: redactRedisUrl(url),
    lastError: () => lastError ?? restart,
    scrub: (text) => scrubSecrets(text, url),
  };
}

/**
 * Waits until the connection is ready, at most `timeoutMs`. Throws `ERR_WORKER_FAILED` naming
 * the (redacted) URL and the last connection error, e.g. a refused connection or a wrong password.
 */
export async function waitForRedis(link: RedisLink, timeoutMs: number): Promise<void> {
  if (link.client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      // A PING is queued until the connection is ready (the offline queue), then answered.
      link.client.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new RollcallError(
                ErrorCodes.WORKER_FAILED,
                `cannot reach Redis at ${link.where} within ${Math.round(timeoutMs / 1000)} s${
                  link.lastError() !== undefined ? `: ${link.lastError()}` : ''
                }`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    if (err instanceof RollcallError) throw err;
    throw new RollcallError(
      ErrorCodes.WORKER_FAILED,
      `Redis at ${link.where} refused us: ${link.scrub((err as Error).message)}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** Closes a connection without waiting on a server that may be gone. */
export async function closeRedis(link: RedisLink): Promise<void> {
  if (link.client.status === 'end') return;
  try {
    if (link.client.status === 'ready') await link.client.quit();
    else link.client.disconnect();
  } catch {
    link.client.disconnect();
  }
}
