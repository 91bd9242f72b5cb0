export { REASON_DESCRIPTIONS, renderReportHtml } from './page.js';
export { writeReportHtml } from './write.js';
