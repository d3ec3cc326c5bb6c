// The local Application Insights page: KQL through the query API of the
// endpoint that serves it, a table and a chart of the result, and the
// runs of the store, step by step. No framework and nothing fetched from
// elsewhere: the binary embeds this file.
'use strict';

const seedRun = '931024c2-3720-11ea-b247-c49deda841c1';
const presets = [
  ['One run', `traces | where customDimensions.parent_run_id == '${seedRun}'`],
  ['Training, last week', "traces | where timestamp > ago(7d) and customDimensions.run_type == 'training'"],
  ['Errors, last week', "traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR'"],
  ['Errors counted', "traces | where timestamp > ago(7d) and customDimensions.Level == 'ERROR' | summarize count()"],
  ['Errors per day', "union traces, exceptions | where customDimensions.Level == 'ERROR' | summarize count() by bin(timestamp, 1d) | render timechart"],
];

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'onclick') e.addEventListener('click', v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// query posts to the query API, as the service's clients do.
async function query(text, timespan) {
  const resp = await fetch('v1/apps/local/query', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Prefer': 'include-render=true' },
    body: JSON.stringify(timespan ? { query: text, timespan } : { query: text }),
  });
  const body = await resp.json();
  if (!resp.ok) {
    const inner = body.error && body.error.innererror;
    throw new Error(inner ? inner.message : (body.error ? body.error.message : resp.statusText));
  }
  return { table: body.tables[0], render: body.render ? body.render.visualization : '' };
}

function cellText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// table renders a result; link(column, row) may make a cell a link.
function table(t, link) {
  const head = el('tr', {}, ...t.columns.map((c) => el('th', {}, c.name, el('span', { class: 'type' }, c.type))));
  const rows = t.rows.map((row) => el('tr', {}, ...row.map((v, i) => {
    const c = t.columns[i];
    const td = el('td', { class: ['long', 'int', 'real'].includes(c.type) ? 'num' : c.type === 'dynamic' ? 'dyn' : '' });
    const a = link && link(c.name, row, v);
    td.append(a || cellText(v));
    if (c.name === 'Level') td.classList.add('level-' + v);
    return td;
  })));
  return el('div', {}, el('p', { class: 'count' }, `${t.rows.length} rows`), el('table', { id: 'result-table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
}

const numeric = (c) => ['long', 'int', 'real'].includes(c.type);
const palette = ['#0f6cbd', '#b3261e', '#8a5300', '#2e7d32', '#6a1b9a', '#00838f'];

const maxOf = (xs) => xs.reduce((a, b) => (b > a ? b : a), -Infinity);
const minOf = (xs) => xs.reduce((a, b) => (b < a ? b : a), Infinity);

// chart draws what render asks for, or a summarize-by-bin result (a
// datetime first, a number, at most a series name): a time chart (series
// by a string column) or a bar chart (a string column and numbers).
function chart(t, kind) {
  const time = t.columns.findIndex((c) => c.type === 'datetime');
  const value = t.columns.findIndex(numeric);
  const label = t.columns.findIndex((c) => c.type === 'string');
  if (value < 0 || t.rows.length === 0 || t.rows.length > 5000) return null;
  if (!kind && time === 0 && t.columns.length <= 3) kind = 'timechart';
  if (!['timechart', 'linechart', 'barchart', 'columnchart'].includes(kind)) return null;
  if ((kind === 'timechart' || kind === 'linechart') && time < 0) return null;
  const W = 720, H = 260, L = 48, B = 28;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('width', W);
  svg.setAttribute('id', 'chart-svg');
  svg.setAttribute('data-kind', kind);
  const add = (tag, attrs, text) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  const max = Math.max(1, maxOf(t.rows.map((r) => Number(r[value]) || 0)));
  const y = (v) => H - B - (v / max) * (H - B - 10);
  add('line', { x1: L, y1: H - B, x2: W - 5, y2: H - B, stroke: '#999' });
  add('text', { x: 4, y: 14, 'font-size': 11, fill: '#555' }, String(max));
  add('text', { x: 4, y: H - B, 'font-size': 11, fill: '#555' }, '0');
  if (kind === 'timechart' || kind === 'linechart') {
    const xs = t.rows.map((r) => Date.parse(r[time]));
    const x0 = minOf(xs), x1 = maxOf(xs);
    const x = (v) => L + (x1 === x0 ? 0.5 : (v - x0) / (x1 - x0)) * (W - L - 10);
    const series = new Map();
    t.rows.forEach((r) => {
      const key = label >= 0 ? cellText(r[label]) : t.columns[value].name;
      if (!series.has(key)) series.set(key, []);
      series.get(key).push([Date.parse(r[time]), Number(r[value]) || 0]);
    });
    let i = 0;
    for (const [key, points] of series) {
      points.sort((a, b) => a[0] - b[0]);
      const color = palette[i % palette.length];
      add('polyline', { points: points.map(([a, b]) => `${x(a)},${y(b)}`).join(' '), fill: 'none', stroke: color, 'stroke-width': 2, class: 'series' });
      points.forEach(([a, b]) => add('circle', { cx: x(a), cy: y(b), r: 3, fill: color }));
      add('text', { x: W - 150, y: 14 + 14 * i, 'font-size': 11, fill: color }, key);
      i++;
    }
    add('text', { x: L, y: H - 8, 'font-size': 11, fill: '#555' }, new Date(x0).toISOString().slice(0, 16));
    add('text', { x: W - 120, y: H - 8, 'font-size': 11, fill: '#555' }, new Date(x1).toISOString().slice(0, 16));
  } else {
    const n = t.rows.length, slot = (W - L - 10) / Math.max(n, 1);
    t.rows.forEach((r, i) => {
      const v = Number(r[value]) || 0;
      add('rect', { x: L + i * slot + 4, y: y(v), width: Math.max(slot - 8, 2), height: H - B - y(v), fill: palette[0], class: 'bar' });
      add('text', { x: L + i * slot + 4, y: H - 8, 'font-size': 11, fill: '#555' }, label >= 0 ? cellText(r[label]) : String(i + 1));
    });
  }
  return svg;
}

async function runQuery() {
  const text = $('query-text').value;
  $('status').textContent = 'running...';
  $('status').className = '';
  $('result').replaceChildren();
  $('chart').replaceChildren();
  try {
    const started = performance.now();
    const { table: t, render } = await query(text, $('timespan').value);
    $('status').textContent = `done in ${Math.round(performance.now() - started)} ms`;
    const svg = chart(t, render);
    if (svg) $('chart').append(svg);
    $('result').append(table(t));
  } catch (e) {
    $('status').textContent = e.message;
    $('status').className = 'error';
  }
}

const quote = (s) => "'" + String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";

// The runs view: runs, then a run's steps, then a step's lines.
async function showRuns(run, step) {
  const crumbs = [el('a', { href: '#runs' }, 'Runs')];
  let text, link;
  const levels = "ERROR = countif(Level in ('ERROR', 'CRITICAL')), WARNING = countif(Level == 'WARNING'), INFO = countif(Level == 'INFO'), DEBUG = countif(Level == 'DEBUG')";
  const base = "union traces, exceptions | extend run = tostring(customDimensions.parent_run_id), step = tostring(customDimensions.step_id), Level = tostring(customDimensions.Level)";
  if (!run) {
    text = `${base} | where isnotempty(run) | summarize experiment = take_any(tostring(customDimensions.experiment_name)), run_type = take_any(tostring(customDimensions.run_type)), first = min(timestamp), last = max(timestamp), steps = dcount(step), ${levels} by run | order by last desc`;
    link = (col, row, v) => col === 'run' && el('a', { href: `#runs/${encodeURIComponent(v)}` }, v);
  } else if (!step) {
    crumbs.push(' / ', run);
    text = `${base} | where run == ${quote(run)} | summarize name = take_any(tostring(customDimensions.step_name)), first = min(timestamp), last = max(timestamp), ${levels}, exceptions = countif(itemType == 'exception') by step | order by first asc`;
    link = (col, row, v) => col === 'step' && el('a', { href: `#runs/${encodeURIComponent(run)}/${encodeURIComponent(v)}` }, v);
  } else {
    crumbs.push(' / ', el('a', { href: `#runs/${encodeURIComponent(run)}` }, run), ' / ', step);
    text = `${base} | where step == ${quote(step)} | project timestamp, itemType, Level, message = iff(itemType == 'exception', strcat(type, ': ', outerMessage), message), operation_Id | order by timestamp asc`;
  }
  $('crumbs').replaceChildren(...crumbs);
  $('runs-result').replaceChildren('loading...');
  try {
    const { table: t } = await query(text);
    $('runs-result').replaceChildren(table(t, link));
  } catch (e) {
    $('runs-result').replaceChildren(el('p', { class: 'error' }, e.message));
  }
}

function route() {
  const parts = location.hash.replace(/^#/, '').split('/').map(decodeURIComponent);
  const runs = parts[0] === 'runs';
  $('query-view').hidden = runs;
  $('runs-view').hidden = !runs;
  $('nav-query').classList.toggle('active', !runs);
  $('nav-runs').classList.toggle('active', runs);
  if (runs) showRuns(parts[1], parts[2]);
}

document.addEventListener('DOMContentLoaded', () => {
  for (const [name, text] of presets) {
    $('presets').append(el('button', { type: 'button', title: text, onclick: () => { $('query-text').value = text; runQuery(); } }, name));
  }
  $('run').addEventListener('click', runQuery);
  $('query-text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runQuery(); });
  window.addEventListener('hashchange', route);
  route();
});
