import { SafeHtml } from './html.js';

/**
 * The page's stylesheet, inlined. System fonts only (a web font would be a request). Light and
 * dark schemes; one column that narrows to a phone's width without scrolling sideways.
 */
export const PAGE_CSS = new SafeHtml(`
:root {
  color-scheme: light dark;
  --bg: #f5f6f4; --card: #ffffff; --ink: #1c2326; --muted: #5d6970; --line: #e2e5e7;
  --flow: #2b6cd4; --flow-track: #e8eef8; --flow-soft: #b7cdf0; --drop: #c8463b; --people: #1d8559;
  --reject: #d08516; --withheld: #8a949b; --ok-bg: #e7f4ec; --ok-ink: #135c3b;
  --warn-bg: #fdf0e3; --warn-ink: #87420d;
  --s0: #8d6cc7; --s1: #2b6cd4; --s2: #1d8559; --s3: #b8c0c6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181b; --card: #1c2226; --ink: #e7ebee; --muted: #9aa6ad; --line: #2d353a;
    --flow: #5b93ec; --flow-track: #243140; --flow-soft: #34527a; --drop: #e2675c; --people: #3fb57f;
    --reject: #e3a03d; --withheld: #75808a; --ok-bg: #173326; --ok-ink: #9fe0bf;
    --warn-bg: #3a2814; --warn-ink: #f6c995; --s3: #56616a;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 980px; margin: 0 auto; padding: 28px 20px 40px; }
code, .path { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.92em; }
h1 { font-size: 1.7rem; line-height: 1.2; margin: 0 0 6px; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 0 0 14px; }
h3 { font-size: 1rem; margin: 22px 0 10px; }
p { margin: 0 0 10px; }
.eyebrow { text-transform: uppercase; letter-spacing: 0.08em; font-size: 0.75rem; color: var(--muted); margin: 0 0 4px; font-weight: 600; }
.sub { color: var(--muted); }
.muted, .lead { color: var(--muted); }
.lead { margin-bottom: 16px; }
header { margin-bottom: 18px; }
.status { border-radius: 10px; padding: 12px 14px; margin-top: 14px; }
.status-released { background: var(--ok-bg); color: var(--ok-ink); }
.status-suppressed { background: var(--warn-bg); color: var(--warn-ink); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 14px; padding: 22px; margin: 0 0 18px; }
#summary { background: none; border: 0; padding: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 12px 14px; min-width: 0; }
.card-label { font-size: 0.8rem; color: var(--muted); margin: 0; font-weight: 600; }
.card-value { font-size: 1.55rem; font-weight: 700; margin: 2px 0; font-variant-numeric: tabular-nums; }
.card-note { font-size: 0.78rem; color: var(--muted); margin: 0; }
.withheld { color: var(--withheld); font-style: italic; font-weight: 600; }
.card-value .withheld { font-size: 1.1rem; }
ol, ul { list-style: none; margin: 0; padding: 0; }
.bar { display: block; width: 100%; height: 24px; }
.bar .track { fill: var(--flow-track); }
.bar-flow .fill { fill: var(--flow); }
.bar-drop .fill { fill: var(--drop); }
.bar-people .fill { fill: var(--people); }
.bar-reject .track { fill: transparent; }
.bar-reject .fill { fill: var(--reject); }
.bar-withheld rect { fill: transparent; stroke: var(--withheld); stroke-width: 2; stroke-dasharray: 8 6; vector-effect: non-scaling-stroke; }
.funnel .step { margin: 0 0 14px; }
.step-head, .reason-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px; margin-bottom: 5px; }
.step-label { font-weight: 600; }
.step-head [data-field], .reason-head [data-field] { font-weight: 700; font-variant-numeric: tabular-nums; }
.step-share, .reason-share { margin-left: auto; color: var(--muted); font-size: 0.88rem; }
.step-note { font-size: 0.82rem; color: var(--muted); margin: 4px 0 0; }
.step-drop .step-label { color: var(--drop); }
.reasons .reason { padding: 12px 0; border-top: 1px solid var(--line); }
.reasons .reason:first-child { border-top: 0; padding-top: 0; }
.reason-code { font-weight: 700; }
.reason-desc { font-size: 0.88rem; color: var(--muted); margin-bottom: 6px; }
.reason .bar { height: 12px; }
.examples { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.examples li { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 2px 8px; font-size: 0.85rem; max-width: 100%; overflow-wrap: anywhere; }
.example-line { color: var(--muted); margin-right: 6px; }
table.countries { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
.countries th, .countries td { padding: 7px 6px; border-top: 1px solid var(--line); text-align: left; vertical-align: middle; }
.countries thead th { border-top: 0; font-size: 0.78rem; color: var(--muted); font-weight: 600; }
.countries .num { text-align: right; white-space: nowrap; }
.countries tbody th { font-weight: 600; }
.country-name { display: block; }
.country-code { display: block; font-size: 0.78rem; color: var(--muted); font-weight: 400; }
.bar-col { width: 34%; }
.bar-country { height: 14px; }
.bar-country .fill { fill: var(--flow-soft); }
.bar-country .matched { fill: var(--flow); }
details { margin-top: 10px; }
summary { cursor: pointer; color: var(--flow); font-weight: 600; }
.legend { font-size: 0.8rem; color: var(--muted); margin-top: 10px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 5px 0 0; vertical-align: -1px; }
.legend .swatch + * { margin-right: 12px; }
.swatch-unique { background: var(--flow-soft); }
.swatch-matched { background: var(--flow); margin-left: 12px; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 10px 24px; margin: 0; }
.fact { min-width: 0; }
.fact dt { font-size: 0.78rem; color: var(--muted); font-weight: 600; }
.fact dd { margin: 0; overflow-wrap: anywhere; }
.bar-stages { height: 20px; border-radius: 4px; }
.stage-0 { fill: var(--s0); background: var(--s0); }
.stage-1 { fill: var(--s1); background: var(--s1); }
.stage-2 { fill: var(--s2); background: var(--s2); }
.stage-3 { fill: var(--s3); background: var(--s3); }
.stages { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 10px 0; font-size: 0.88rem; }
.stages .ms { font-weight: 700; font-variant-numeric: tabular-nums; }
footer { color: var(--muted); font-size: 0.8rem; padding: 4px 4px 0; }
@media (max-width: 600px) {
  main { padding: 18px 12px 28px; }
  section { padding: 16px 14px; border-radius: 12px; }
  h1 { font-size: 1.35rem; }
  .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
  .card-value { font-size: 1.3rem; }
  .bar-col, .legend { display: none; }
  .countries th, .countries td { padding: 6px 4px; font-size: 0.88rem; }
  .facts { grid-template-columns: minmax(0, 1fr); }
}
@media print {
  body { background: #fff; }
  section, .card { break-inside: avoid; }
}
`);
