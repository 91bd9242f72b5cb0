import { applyOptOuts, inspectIndex, writeIndexFile } from '@rollcall/index';
import { ExitCode } from '../exit.js';

/** `rollcall index build <csv> -o <file>`: returns the exit code. */
export async function runIndexBuild(
  csv: string,
  opts: { out: string; skipInvalid?: boolean; withSha256?: boolean; quiet?: boolean },
  signal?: AbortSignal,
): Promise<number> {
  const report = await writeIndexFile(csv, opts.out, {
    skipInvalid: opts.skipInvalid === true,
    withSha256: opts.withSha256 === true,
    ...(signal ? { signal } : {}),
  });
  if (!opts.quiet) {
    const lines = [
      `index written to ${opts.out}`,
      `rows            ${fmt(report.rows)}`,
      `entries         ${fmt(report.entries)}`,
      `opted out       ${fmt(report.optedOut)}`,
      `never matchable ${fmt(report.neverMatchable)} (E.164 but not a valid range under libphonenumber-js ${report.metadataVersion})`,
    ];
    if (report.skippedRows > 0) {
      lines.push(`skipped         ${fmt(report.skippedRows)}`);
      for (const [problem, count] of Object.entries(report.skipped)) {
        if (count > 0) lines.push(`  ${problem.padEnd(14)}${fmt(count)}`);
      }
    }
    lines.push(
      `table           ${fmt(report.tableBytes)} bytes, ${report.bytesPerEntry.toFixed(1)} bytes/entry, load factor ${report.loadFactor.toFixed(3)}`,
    );
    if (report.sha256Bytes > 0) lines.push(`sha256 section  ${fmt(report.sha256Bytes)} bytes`);
    lines.push(`file            ${fmt(report.fileBytes)} bytes in ${Math.round(report.durationMs)} ms`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

/** `rollcall index optout <file> <changes.csv>`: returns the exit code. */
export async function runIndexOptout(
  file: string,
  changes: string,
  opts: { quiet?: boolean },
): Promise<number> {
  const report = await applyOptOuts(file, changes);
  if (!opts.quiet) {
    process.stdout.write(
      [
        `rows            ${fmt(report.rows)}`,
        `changed         ${fmt(report.changed)}`,
        `already so      ${fmt(report.unchanged)}`,
        `not in index    ${fmt(report.notInIndex)}`,
        `opted out now   ${fmt(report.optedOut)}`,
      ].join('\n') + '\n',
    );
  }
  return ExitCode.OK;
}

/** `rollcall index inspect <file>`: exit 0 when sound, 2 when the checksums or header disagree. */
export async function runIndexInspect(file: string, opts: { json?: boolean }): Promise<number> {
  const info = await inspectIndex(file);
  if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  else {
    const h = info.header;
    const lines = [
      `file             ${info.file} (${fmt(info.fileSize)} bytes)`,
      `format version   ${h.formatVersion}`,
      `built            ${new Date(h.builtAt).toISOString()} with libphonenumber-js ${h.metadataVersion}`,
      `entries          ${fmt(info.entries)}`,
      `opted out        ${fmt(info.optedOut)}`,
      `never matchable  ${fmt(info.neverMatchable)}`,
      `capacity         ${fmt(h.capacity)} slots, load factor ${info.loadFactor.toFixed(3)}`,
      `bytes per entry  ${info.bytesPerEntry.toFixed(2)}`,
      `sha256 section   ${info.sha256Bytes > 0 ? `${fmt(info.sha256Bytes)} bytes` : 'none'}`,
      `shard            ${h.shard + 1} of ${h.shardCount} (hash seed ${h.hashSeed})`,
      `checksums        header ${info.checksum.header}, payload ${info.checksum.payload}`,
    ];
    for (const p of info.problems) lines.push(`PROBLEM: ${p}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return info.sound ? ExitCode.OK : ExitCode.BAD_INPUT;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
