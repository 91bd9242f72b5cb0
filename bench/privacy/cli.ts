/**
 * Runs the real `rollcall` CLI at most `lanes` at a time: either in long-lived lanes (`lane.ts`, the
 * CLI's own `main` once per run; the default, since a process start costs seconds on a loaded
 * 2-core machine) or one fresh process per run (`spawn`, exactly as a user runs it).
 *
 * It runs a snapshot of the workspace's packages taken when it starts, so that a rebuild or an edit
 * during a long run (each match loads its worker thread anew) cannot mix two versions of the CLI in
 * one set of figures. From the snapshot's `dist` when every built file is newer than its source
 * (after `pnpm build`: worker threads start without the TypeScript loader, about twice as fast),
 * else from its source.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');

/** Where the CLI is run from: its built `dist`, or its TypeScript source (through tsx). */
export type CliBuild = 'dist' | 'source';

/** The files of the CLI and its privacy package under `root`, and how a lane loads them. */
function entryOf(root: string, build: CliBuild) {
  const ext = build === 'dist' ? 'dist/%.js' : 'src/%.ts';
  const file = (pkg: string, name: string) => join(root, 'packages', pkg, ext.replace('%', name));
  return {
    bin: file('cli', 'bin'),
    module: file('cli', 'index'),
    privacy: file('privacy', 'index'),
    // The lane itself is TypeScript; a built CLI resolves its packages to their dist.
    execArgv: build === 'dist' ? ['--import', 'tsx'] : ['--conditions=source', '--import', 'tsx'],
  };
}

/**
 * Copies the workspace's packages (sources, builds, package files; not their tests) to a temporary
 * root, with each package's `node_modules` links as they are (relative, so `@rollcall/*` resolves
 * inside the copy) and the root's `node_modules` linked. Returns the copy's root.
 */
export function snapshotWorkspace(from: string = ROOT): string {
  const root = mkdtempSync(join(tmpdir(), 'rollcall-cli-snapshot-'));
  symlinkSync(join(from, 'node_modules'), join(root, 'node_modules'), 'dir');
  for (const pkg of readdirSync(join(from, 'packages'))) {
    const dir = join(from, 'packages', pkg);
    cpSync(dir, join(root, 'packages', pkg), {
      recursive: true,
      verbatimSymlinks: true,
      preserveTimestamps: true,
      filter: (path) => path !== join(dir, 'test'),
    });
  }
  return root;
}

/** `dist` if every package's built JavaScript under `root` is as new as its source, else `source`. */
export function freshestBuild(root: string = ROOT): CliBuild {
  const packages = join(root, 'packages');
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, 'src');
    if (!existsSync(src)) continue;
    for (const file of readdirSync(src, { recursive: true }) as string[]) {
      if (!file.endsWith('.ts') || file.endsWith('.d.ts') || file.endsWith('.test.ts')) continue;
      const built = join(packages, pkg, 'dist', file.replace(/\.ts$/, '.js'));
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(src, file)).mtimeMs) return 'source';
    }
  }
  return 'dist';
}

/** What one CLI run returned. */
export interface CliRun {
  status: number;
  stderr: string;
}

/** Runs CLI commands, at most `lanes` at once, on a snapshot of the workspace; {@link close} removes it. */
export class CliRunner {
  readonly mode: 'lanes' | 'spawn';
  readonly build: CliBuild;
  readonly #root: string;
  readonly #entry: ReturnType<typeof entryOf>;
  readonly #lanes: Array<{ child: ChildProcess | null; busy: boolean }>;
  readonly #waiting: Array<() => void> = [];
  readonly #pending = new Map<number, (run: CliRun) => void>();
  #nextId = 0;
  /** Runs made so far. */
  runs = 0;

  constructor(options: { lanes?: number; mode?: 'lanes' | 'spawn'; build?: CliBuild } = {}) {
    this.mode = options.mode ?? 'lanes';
    this.#root = snapshotWorkspace();
    this.build = options.build ?? freshestBuild(this.#root);
    this.#entry = entryOf(this.#root, this.build);
    this.#lanes = Array.from({ length: options.lanes ?? 2 }, () => ({ child: null, busy: false }));
  }

  /** Runs `rollcall <args>` and resolves to its exit code and what it wrote to stderr. */
  async run(args: readonly string[]): Promise<CliRun> {
    const lane = await this.#acquire();
    try {
      this.runs++;
      return this.mode === 'spawn' ? await this.#spawnRun(args) : await this.#laneRun(lane, args);
    } finally {
      lane.busy = false;
      this.#waiting.shift()?.();
    }
  }

  /**
   * The privacy policy this CLI runs with by default (`DEFAULT_PRIVACY_POLICY`), for the record
   * beside the figures: the mechanism changes, and the figures are of one version of it.
   */
  async defaultPrivacyPolicy(): Promise<Record<string, unknown> | null> {
    try {
      const mod = (await import(pathToFileURL(this.#entry.privacy).href)) as {
        DEFAULT_PRIVACY_POLICY?: Record<string, unknown>;
      };
      return mod.DEFAULT_PRIVACY_POLICY === undefined ? null : { ...mod.DEFAULT_PRIVACY_POLICY };
    } catch {
      return null;
    }
  }

  /** Stops the lanes and removes the snapshot. */
  close(): void {
    for (const lane of this.#lanes) {
      lane.child?.disconnect();
      lane.child = null;
    }
    rmSync(this.#root, { recursive: true, force: true });
  }

  async #acquire(): Promise<{ child: ChildProcess | null; busy: boolean }> {
    for (;;) {
      const free = this.#lanes.find((l) => !l.busy);
      if (free !== undefined) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((r) => this.#waiting.push(r));
    }
  }

  #laneRun(lane: { child: ChildProcess | null }, args: readonly string[]): Promise<CliRun> {
    if (lane.child === null) {
      const child = fork(join(import.meta.dirname, 'lane.ts'), [this.#entry.module], {
        cwd: ROOT,
        execArgv: this.#entry.execArgv,
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.on('message', (msg: { id: number } & CliRun) => {
        this.#pending.get(msg.id)?.({ status: msg.status, stderr: msg.stderr });
        this.#pending.delete(msg.id);
      });
      child.on('exit', (code) => {
        // A lane that dies fails what it was running, loudly: the figures would be wrong otherwise.
        for (const [id, done] of this.#pending) {
          done({ status: -1, stderr: `CLI lane exited with ${code}` });
          this.#pending.delete(id);
        }
        lane.child = null;
      });
      lane.child = child;
    }
    const id = this.#nextId++;
    return new Promise((done) => {
      this.#pending.set(id, done);
      lane.child!.send({ id, args: [...args] });
    });
  }

  #spawnRun(args: readonly string[]): Promise<CliRun> {
    const { bin, execArgv } = this.#entry;
    const argv = [...(this.build === 'dist' ? [] : execArgv), bin, ...args];
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      child.on('error', fail);
      child.on('close', (code) => done({ status: code ?? -1, stderr }));
    });
  }
}
