import { cpus } from 'node:os';
import type { Bench } from 'tinybench';

/** One measured figure of a suite; `ratio` is `hz / hz(baseline)` measured in the same run. */
export interface BenchResult {
  suite: string;
  name: string;
  /** Operations (rows, probes, cells…) per second: the median over samples. */
  hz: number;
  /** Unit of `hz`, e.g. `rows/s`. */
  unit?: string;
  /** Name of the baseline this figure is compared against (same suite, same run). */
  baseline?: string;
  ratio?: number;
  /** The target ratio, when the issue sets one. */
  target?: number;
  notes?: string;
}

/** Options every suite takes. */
export interface SuiteOptions {
  /** A small, fast version for CI smoke runs; never fails on a number. */
  quick: boolean;
}

/** A benchmark suite module. */
export type Suite = (opts: SuiteOptions) => Promise<BenchResult[]>;

/** Facts about the machine, printed beside every table. */
export function machineFacts(): { cores: number; cpu: string; node: string; platform: string } {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/**
 * Median throughput of each tinybench task in items per second: a task that handles `items`
 * items per iteration reports `items / median latency`. Medians, because the machine is shared.
 */
export function medianHz(bench: Bench, name: string, itemsPerIteration = 1): number {
  const task = bench.getTask(name);
  const result = task?.result as { latency?: { p50?: number } } | undefined;
  const p50 = result?.latency?.p50;
  if (p50 === undefined || p50 <= 0) return 0;
  return (itemsPerIteration * 1000) / p50;
}

/**
 * Median seconds of each task over `rounds` rounds in which every task runs once, in turn (after
 * `beforeEach`, e.g. a full collection). One warm-up round is not counted. On a shared machine the
 * slow phases then hit every task alike, where tinybench would run each task's iterations in a
 * row and hand a slow phase to whichever task ran at the time.
 */
export async function alternatingMedians(
  tasks: Record<string, () => Promise<unknown> | unknown>,
  rounds: number,
  beforeEach?: () => void,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let round = -1; round < rounds; round++) {
    for (const [name, task] of Object.entries(tasks)) {
      beforeEach?.();
      const started = performance.now();
      await task();
      if (round >= 0) times[name]!.push((performance.now() - started) / 1000);
    }
  }
  const medians: Record<string, number> = {};
  for (const [name, t] of Object.entries(times)) {
    t.sort((a, b) => a - b);
    medians[name] = t[t.length >> 1]!;
  }
  return medians;
}
