// Owns the browser: one Debian Chromium per test file, a fresh context per test with JavaScript on or off.
import { chromium } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * Runs in every page before its own scripts: sets `window.__e2eHydrated` once the app's wasm is
 * instantiated and the task that calls Leptos's `hydrate()` has run.
 */
function markHydration() {
  for (const name of ['instantiateStreaming', 'instantiate']) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).then((result) => {
        setTimeout(() => (window.__e2eHydrated = true), 0);
        return result;
      });
    };
  }
}

/**
 * A new isolated context (own cookies) and its first page. With JavaScript on, the page records
 * console errors and uncaught exceptions in `page.errors`. Every page records its POSTs to the
 * API in `page.apiPosts` (`type` is "fetch" when Leptos sent them, "document" for plain forms).
 */
export async function newPage(browser, { baseURL, javaScriptEnabled }) {
  const context = await browser.newContext({ baseURL, javaScriptEnabled });
  if (javaScriptEnabled) await context.addInitScript(markHydration);
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  page.errors = [];
  page.apiPosts = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname.startsWith('/api/')) {
      page.apiPosts.push({ path: new URL(req.url()).pathname, type: req.resourceType() });
    }
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.errors.push(msg.text());
  });
  page.on('pageerror', (err) => page.errors.push(`uncaught: ${err.message}`));
  return { context, page };
}

/**
 * Opens `path` and, with JavaScript on, waits until the page is hydrated (the wasm bundle is
 * instantiated, `hydrate()` has run and the network has gone quiet), so that clicks reach
 * Leptos's handlers; fails when the page threw while starting.
 */
export async function open(page, path, { javaScriptEnabled }) {
  const response = await page.goto(path);
  if (javaScriptEnabled) {
    await page.waitForFunction(() => window.__e2eHydrated === true);
    await settle(page);
    const uncaught = page.errors.filter((e) => e.startsWith('uncaught:'));
    if (uncaught.length > 0) throw new Error(`${path} did not hydrate cleanly:\n${uncaught.join('\n')}`);
  }
  return response;
}

/** With JavaScript on: waits for the network to go quiet (wasm loaded, server calls done). */
export async function settle(page) {
  await page.waitForLoadState('networkidle');
}
