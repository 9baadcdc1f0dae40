// make bench-pow (part of make bench, never of make test): what the proof of work costs.
//   - a reader: the widget's own solver (the served widget.js, build/gen/widget.js:
//     window.__thamdo.pow, a Worker from a blob URL, the SHA-256 of @noble/hashes) in headless
//     Chromium, the median and p90 solve time at each difficulty 10..22 over a bounded number of
//     runs (each a fresh challenge minted by the service's pow.c);
//   - a scripted voter: OpenSSL's SHA-256 on one core (build/widget-pow-tool rate), the votes per
//     second it can still get at each difficulty, solving one challenge after another.
// The page is served from 127.0.0.1 by a tiny host server; no service needed.
// Bounds: POW_BENCH_RUNS (20) runs and POW_BENCH_SECONDS (10) s per difficulty, at least 3 runs;
// POW_BENCH_VOTER_SECONDS (3) s of scripted voting per difficulty.
import fs from 'node:fs';
import { launchBrowser, newPage, startHostServer, WIDGET_JS } from './lib.mjs';
import { powMint, powCheck, powRate } from './widget-pow-tool.mjs';

const MIN_D = 10;
const MAX_D = 22;
const RUNS = Number(process.env.POW_BENCH_RUNS || 20);
const SECONDS = Number(process.env.POW_BENCH_SECONDS || 10);
const VOTER_SECONDS = Number(process.env.POW_BENCH_VOTER_SECONDS || 3);
const SECRET = 'a-secret-of-the-proof-of-work-bench-32-bytes';
const BUCKET = '0123456789abcdef';

/** The p-th percentile (nearest rank) of sorted values. */
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const ms = (v) => v.toFixed(v < 100 ? 1 : 0);

const pages = {};
const host = await startHostServer(pages);
pages['/'] = `<!doctype html><meta charset="utf-8"><title>pow bench</title><main></main><script>${fs.readFileSync(WIDGET_JS, 'utf8')}</script>`;
const browser = await launchBrowser();
const { page } = await newPage(browser);
await page.goto(`${host.origin}/`);
await page.waitForFunction(() => window.__thamdo && typeof window.__thamdo.pow === 'function');

console.log(`proof of work: Chromium ${browser.version()} (headless, the widget's solver), ` +
  `scripted voter = OpenSSL SHA-256 on one core; runs <= ${RUNS} or ${SECONDS} s per difficulty (>= 3)`);
console.log('difficulty  runs  reader median   reader p90  reader hashes/s   voter votes/s/core   voter hashes/s');
const now = Math.floor(Date.now() / 1000);
for (let d = MIN_D; d <= MAX_D; d++) {
  const times = [];
  const start = Date.now();
  while (times.length < RUNS && (times.length < 3 || Date.now() - start < SECONDS * 1000)) {
    const token = powMint(SECRET, 'bench', BUCKET, d, now + 3600);
    const { answer, took } = await page.evaluate(async ([t, bits]) => {
      const t0 = performance.now();
      const a = await window.__thamdo.pow(t, bits, Date.now() + 600000);
      return { answer: a, took: performance.now() - t0 };
    }, [token, d]);
    const verdict = powCheck(SECRET, `${token}:${answer}`, 'bench', BUCKET, now);
    if (verdict.result !== 'ok') throw new Error(`difficulty ${d}: pow_check says ${verdict.result}`);
    times.push(took);
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const voter = powRate(d, VOTER_SECONDS);
  console.log(`${String(d).padStart(10)}  ${String(times.length).padStart(4)}  ${`${ms(pct(times, 50))} ms`.padStart(13)}` +
    `  ${`${ms(pct(times, 90))} ms`.padStart(11)}  ${String(Math.round(2 ** d / (mean / 1000))).padStart(16)}` +
    `  ${voter.per_second.toFixed(voter.per_second < 10 ? 2 : 0).padStart(19)}  ${String(voter.hashes_per_second).padStart(15)}`);
}
console.log('reader hashes/s: 2^difficulty / mean solve time (the expected work); a solve includes starting its Worker.');
await browser.close();
process.exit(0);
