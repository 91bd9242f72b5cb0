import { writeFileAtomic } from '@rollcall/files';
import type { MatchReport } from '@rollcall/join';
import { renderReportHtml } from './page.js';

/** Writes {@link renderReportHtml}'s page to `path` atomically (a temp file beside it, then a rename). */
export function writeReportHtml(path: string, report: MatchReport): void {
  writeFileAtomic(path, renderReportHtml(report));
}
