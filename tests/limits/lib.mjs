// Small helpers shared by the tests of tests/limits (the harness is tests/blackbox/lib/harness.mjs).
import { rawRequest, sleep } from '../blackbox/lib/harness.mjs';

/** A GET on a connection the server closes after its answer. */
export const get = (p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

/** Resolves once check() holds (polled every 20 ms); fails after `ms`. */
export async function until(check, ms, what) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
    await sleep(20);
  }
}

/** Ready, asked on connections that are closed at once (no idle connection stays open). */
export async function ready(t) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if ((await rawRequest(t.url, get('/readyz'), { timeout: 2000 })).status === 200) return;
    await sleep(50);
  }
  throw new Error('not ready within 10 s');
}
