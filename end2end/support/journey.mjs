// Owns what every journey file shares: the stack it runs against (SMTP sink, app server and
// Chromium, started before the file's tests and stopped after them) and the waiting helpers.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startSmtpSink } from './smtp-sink.mjs';
import { startServer } from './server.mjs';
import { launchBrowser } from './browser.mjs';

export let sink;
export let server;
export let browser;

before(async () => {
  sink = await startSmtpSink();
  server = await startServer({ smtpUrl: sink.url });
  browser = await launchBrowser();
});

after(async () => {
  if (process.env.E2E_DEBUG) console.log(server?.log());
  await browser?.close();
  await server?.stop();
  await sink?.stop();
});

export function uniqueEmail() {
  return `ada+${randomBytes(5).toString('hex')}@example.com`;
}

/** Text of `locator`, whitespace collapsed. */
export async function text(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** Waits until `locator` (one element) contains `expected`; returns its text. */
export async function waitForText(locator, expected, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last = '';
  for (;;) {
    try {
      last = await text(locator.first());
      if (expected instanceof RegExp ? expected.test(last) : last.includes(expected)) return last;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) {
      const wanted = expected instanceof RegExp ? String(expected) : JSON.stringify(expected);
      assert.fail(`expected ${locator} to contain ${wanted}, it reads ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits for the address bar to show `path` (and `search`, when given). */
export async function waitForPath(page, pathname, search) {
  await page.waitForURL((url) => url.pathname === pathname && (search === undefined || url.search === search));
}
