import type { MatchProgress } from '@rollcall/join';

/**
 * A one-line progress display on stderr (rows, rows/s, ETA) drawn only when stderr is a terminal
 * and not `--quiet`; otherwise every call is a no-op.
 */
export class ProgressLine {
  readonly #enabled: boolean;
  readonly #started = Date.now();
  #lastDraw = 0;

  constructor(enabled: boolean) {
    this.#enabled = enabled && process.stderr.isTTY === true;
  }

  /** Redraws at most ten times a second. */
  update(p: MatchProgress): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = p.rows / seconds;
    let line = `  ${p.rows.toLocaleString('en-US')} rows  ${Math.round(rate).toLocaleString('en-US')} rows/s`;
    if (p.bytesRead !== undefined && p.totalBytes !== undefined && p.totalBytes > 0 && p.bytesRead > 0) {
      const fraction = Math.min(1, p.bytesRead / p.totalBytes);
      const width = 24;
      const done = Math.round(fraction * width);
      const eta = (seconds / fraction) * (1 - fraction);
      line = `  [${'#'.repeat(done)}${'.'.repeat(width - done)}] ${(fraction * 100).toFixed(0)}%${line}  ETA ${eta.toFixed(0)}s`;
    }
    process.stderr.write(`\r${line}\x1b[K`);
  }

  /** Clears the line. */
  done(): void {
    if (this.#enabled) process.stderr.write('\r\x1b[K');
  }
}
