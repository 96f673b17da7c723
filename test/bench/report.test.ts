// The bench report's pictures: every path drawn with its numbers, names escaped, one CDF per fixed-rate
// series; and the RcvbufErrors reading the fixed-rate check relies on.
import { expect } from 'chai';
import { latencySvg, qpsSvg, type ReportData } from './report.js';
import { udpRcvbufErrors } from './pinned.js';

const result = (p99Ms: number, cdf: boolean) => ({
  qps: 10_000, avgMs: 1, p50Ms: 0.5, p99Ms, p999Ms: p99Ms * 2, lostPct: 0, lost: 0, completed: 100_000,
  ...(cdf ? { cdfMs: Array.from({ length: 101 }, (_, p) => 0.1 + p * (p99Ms / 100)) } : {}),
});

const data: ReportData = {
  when: '2026-01-01T00:00:00.000Z', node: 'v24.21.0', rounds: 3, seconds: 5, pinned: true, load: 'load average 1.0', rate: 10_000,
  rows: [
    { name: 'node ceiling', qps: [100, 100, 100], ratios: [1, 1, 1], cpuRatios: [1, 1, 1], cpuUs: [20, 20, 20], rssMb: 50 },
    { name: 'nodens <hosts> & co', target: 0.9, qps: [90, 80, 95], ratios: [0.9, 0.8, 0.95], cpuRatios: [0.7, 0.75, 0.8], cpuUs: [28, 27, 25], rssMb: 80 },
  ],
  fixed: [
    { name: 'dnsmasq', result: result(2, true), rcvbufErrors: 0 },
    { name: 'nodens hosts', result: result(4, true), rcvbufErrors: 0 },
    { name: 'no latencies', result: result(4, false), rcvbufErrors: 0 },
  ],
};

describe('bench report', () => {
  it('draws a bar per path with its median ratio and CPU ratio, a target tick where there is one, names escaped', () => {
    const svg = qpsSvg(data);
    expect(svg).to.match(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).to.include('nodens &lt;hosts&gt; &amp; co');
    expect(svg).not.to.include('<hosts>');
    expect(svg).to.include('0.90 (CPU 0.75)');
    expect(svg).to.include('1.00 (CPU 1.00)');
    expect(svg.match(/stroke="#e15759"/g)).to.have.length(1);
    expect(svg.match(/<rect [^>]*height="18"/g)).to.have.length(2);
  });

  it('draws one CDF line per fixed-rate series that has latencies, with its p99 and lost count', () => {
    const svg = latencySvg(data);
    expect(svg.match(/<polyline /g)).to.have.length(2);
    expect(svg).to.include('p99 2.00 ms, lost 0');
    expect(svg).to.include('p99 4.00 ms, lost 0');
    expect(svg).not.to.include('no latencies');
  });

  it('reads RcvbufErrors from the Udp line of /proc/net/snmp', () => {
    const n = udpRcvbufErrors();
    expect(Number.isInteger(n) && n >= 0, String(n)).to.equal(true);
  });
});
