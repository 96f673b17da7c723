// The picture of a pinned bench run: qps.svg (each path's QPS ratio to the Node ceiling, its range over the
// rounds, and the target), latency.svg (the latency CDF at a fixed rate), index.html embedding both
// (self-contained: no scripts, no fonts), latest.json with the numbers. The README embeds the SVGs.
import fs from 'node:fs';
import path from 'node:path';
import type { FixedRow, PinnedRow } from './pinned.js';

export interface ReportData {
  when: string;
  node: string;
  rounds: number;
  seconds: number;
  pinned: boolean;
  load: string;
  rate: number;
  rows: PinnedRow[];
  fixed: FixedRow[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];

export function qpsSvg(d: ReportData): string {
  const rowH = 28;
  const left = 340;
  const width = 960;
  const barW = width - left - 60;
  const max = Math.max(1.2, ...d.rows.map((r) => Math.max(...r.ratios, ...r.cpuRatios))) * 1.05;
  const x = (v: number) => Math.round((left + (v / max) * barW) * 10) / 10;
  const top = 56;
  const h = top + d.rows.length * rowH + 40;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">QPS as a ratio to the Node ceiling asked the same names, median of ${d.rounds} interleaved rounds</text>`,
    `<text x="10" y="34" fill="#555">range over the rounds as a line; the issue's target as a red tick; thin dark bar: CPU ratio (ceiling's CPU µs/query over the path's)</text>`,
    `<text x="10" y="49" fill="#555">${esc(`${d.when}, node ${d.node}, ${d.pinned ? 'server pinned to CPU 1, dnsperf to CPU 0' : 'not pinned'}; ${d.load}`)}</text>`,
  ];
  for (const v of [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4].filter((t) => t <= max)) {
    parts.push(`<line x1="${x(v)}" y1="${top}" x2="${x(v)}" y2="${h - 30}" stroke="${v === 1 ? '#333' : '#ddd'}"/>`, `<text x="${x(v)}" y="${h - 16}" text-anchor="middle">${v.toFixed(1)}×</text>`);
  }
  d.rows.forEach((r, i) => {
    const y = top + i * rowH + 4;
    const m = median(r.ratios);
    const c = median(r.cpuRatios);
    const color = r.name.startsWith('nodens') ? COLORS[0] : r.name.startsWith('dnsmasq') ? COLORS[1] : '#999';
    parts.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(r.name)}</text>`,
      `<rect x="${left}" y="${y}" width="${Math.max(0, x(m) - left)}" height="${rowH - 10}" fill="${color}"/>`,
      `<line x1="${x(Math.min(...r.ratios))}" y1="${y + 9}" x2="${x(Math.max(...r.ratios))}" y2="${y + 9}" stroke="black"/>`,
      `<rect x="${left}" y="${y + rowH - 10}" width="${Math.max(0, x(c) - left)}" height="4" fill="#333"/>`,
      `<text x="${Math.max(x(m), x(c)) + 6}" y="${y + 14}">${m.toFixed(2)} (CPU ${c.toFixed(2)})</text>`,
    );
    if (r.target !== undefined) parts.push(`<line x1="${x(r.target)}" y1="${y - 2}" x2="${x(r.target)}" y2="${y + rowH - 8}" stroke="#e15759" stroke-width="3"/>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function latencySvg(d: ReportData): string {
  const width = 960;
  const height = 360;
  const left = 60;
  const right = 380;
  const top = 40;
  const bottom = 40;
  const series = d.fixed.filter((f) => f.result.cdfMs);
  // Log-scaled milliseconds: the tails are what differ.
  const all = series.flatMap((f) => f.result.cdfMs!).filter((v) => v > 0);
  const lo = Math.max(0.01, Math.min(...all, 1));
  const hi = Math.max(...all, 1);
  const lx = (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1)) * (width - left - right);
  const ly = (p: number) => top + (1 - p / 100) * (height - top - bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">Latency CDF at a fixed ${d.rate} qps (log ms; pinned as the QPS chart)</text>`,
  ];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const v = 10 ** e;
    if (v < lo || v > hi) continue;
    parts.push(`<line x1="${lx(v)}" y1="${top}" x2="${lx(v)}" y2="${height - bottom}" stroke="#ddd"/>`, `<text x="${lx(v)}" y="${height - bottom + 16}" text-anchor="middle">${v} ms</text>`);
  }
  for (const p of [0, 50, 90, 99, 100]) parts.push(`<line x1="${left}" y1="${ly(p)}" x2="${width - right}" y2="${ly(p)}" stroke="#eee"/>`, `<text x="${left - 6}" y="${ly(p) + 4}" text-anchor="end">${p}%</text>`);
  series.forEach((f, i) => {
    const pts = f.result.cdfMs!.map((v, p) => `${lx(v).toFixed(1)},${ly(p).toFixed(1)}`).join(' ');
    // (p99 and lost in the legend: the tail is what the fixed-rate check compares.)
    const color = COLORS[i % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`,
      `<text x="${width - right + 10}" y="${top + 34 * i + 10}" fill="${color}">${esc(f.name)}</text>`,
      `<text x="${width - right + 10}" y="${top + 34 * i + 25}" fill="${color}">${esc(`p50 ${f.result.p50Ms.toFixed(2)} ms, p99 ${f.result.p99Ms.toFixed(2)} ms, lost ${f.result.lost}`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function writeReport(dir: string, d: ReportData): void {
  fs.mkdirSync(dir, { recursive: true });
  const qps = qpsSvg(d);
  const lat = latencySvg(d);
  fs.writeFileSync(path.join(dir, 'qps.svg'), qps);
  fs.writeFileSync(path.join(dir, 'latency.svg'), lat);
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(d, null, 1)}\n`);
  const rows = d.rows.map((r) => `<tr><td>${esc(r.name)}</td><td>${median(r.ratios).toFixed(2)}</td><td>${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}</td><td>${r.target ?? ''}</td><td>${median(r.cpuRatios).toFixed(2)}</td><td>${median(r.qps).toFixed(0)}</td><td>${median(r.cpuUs).toFixed(1)}</td><td>${r.rssMb.toFixed(0)}</td></tr>`).join('\n');
  const fixed = d.fixed.map((f) => `<tr><td>${esc(f.name)}</td><td>${f.result.lost}</td><td>${f.rcvbufErrors}</td><td>${f.result.p50Ms.toFixed(3)}</td><td>${f.result.p99Ms.toFixed(3)}</td><td>${f.result.p999Ms.toFixed(3)}</td></tr>`).join('\n');
  fs.writeFileSync(path.join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><title>nodens bench ${esc(d.when)}</title>
<style>body{font-family:sans-serif;max-width:900px;margin:1em auto}td,th{padding:2px 8px;text-align:right}td:first-child{text-align:left}table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style>
<h1>nodens bench, ${esc(d.when)}</h1><p>${esc(`node ${d.node}; ${d.rounds} rounds of ${d.seconds} s; ${d.load}`)}</p>
${qps}
<table><tr><th>path</th><th>ratio</th><th>range</th><th>target</th><th>CPU ratio</th><th>QPS</th><th>CPU µs/q</th><th>RSS MB</th></tr>
${rows}</table>
${lat}
<table><tr><th>server @${d.rate} qps</th><th>lost</th><th>RcvbufErrors</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th></tr>
${fixed}</table>
`);
}
