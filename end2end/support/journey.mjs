// Owns what every journey file shares: the stack it runs against (SMTP sink, SMS gateway, app
// server and Chromium, started before the file's tests and stopped after them) and the waiting
// helpers.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startSmtpSink } from './smtp-sink.mjs';
import { startSmsGateway } from './sms-gateway.mjs';
import { startServer, siteProblems } from './server.mjs';
import { fileURLToPath } from 'node:url';
import { launchBrowser, newPage, open } from './browser.mjs';
import { linkIn } from './smtp-sink.mjs';

export let sink;
export let sms;
export let server;
export let browser;

before(async () => {
  sink = await startSmtpSink();
  sms = await startSmsGateway();
  server = await startServer({
    smtpUrl: sink.url,
    env: {
      CIAM_SMS_WEBHOOK_URL: sms.url,
      // The browser is on loopback: a journey that needs it elsewhere says so in
      // X-Forwarded-For (see `browserAt`), placed by the tests' own GeoIP database.
      CIAM_TRUSTED_PROXIES: '127.0.0.1',
      CIAM_GEOIP_DB: fileURLToPath(new URL('./geo-test.mmdb', import.meta.url)),
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  if (process.env.E2E_DEBUG) console.log(server?.log());
  await browser?.close();
  await server?.stop();
  await sms?.stop();
  await sink?.stop();
});

/** Addresses the tests' GeoIP database places: Berlin and Tokyo (with coordinates). */
export const PLACES = { berlin: '198.51.100.10', tokyo: '203.0.113.10' };

let networks = 0;

/**
 * Without JavaScript a registration brings no proof of work, and the server allows 5 an hour
 * from one network: the journeys' registrations are different people, so each comes from a
 * private /24 of its own (what the tests' GeoIP database does not place, and the risk engine
 * never sees: it weighs sign-ins).
 */
async function registerFromOwnNetwork(context) {
  await context.route('**/api/register', async (route) => {
    networks += 1;
    const headers = { ...route.request().headers(), 'x-forwarded-for': `10.${(networks >> 8) & 255}.${networks & 255}.7` };
    await route.continue({ headers });
  });
}

/** Makes the browser of `context` appear at `ip` (as the trusted proxy in front reports it). */
export async function browserAt(context, ip) {
  await context.setExtraHTTPHeaders({ 'x-forwarded-for': ip });
}

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

/**
 * Registers, for the `describe` it is called in, the pages its tests open: closed after the
 * tests, checked to load the site's bundle when JavaScript is on. `freshPage` opens a new
 * browser context (own cookies); `checkPage` asserts the page logged no Content Security Policy
 * violation and threw nothing, and that every form went as Leptos sends it with JavaScript on
 * (fetch) or as a plain document post with it off. `setup` runs on each new context.
 */
export function usePages({ javaScriptEnabled, setup }) {
  const pages = [];

  async function freshPage() {
    const handle = await newPage(browser, { baseURL: server.baseURL, javaScriptEnabled });
    if (!javaScriptEnabled) await registerFromOwnNetwork(handle.context);
    if (setup) await setup(handle.context);
    pages.push(handle.page);
    return handle;
  }

  if (javaScriptEnabled) {
    before(async () => {
      const problem = await siteProblems(server.baseURL);
      if (problem) throw new Error(`cannot hydrate: ${problem}`);
    });
  }

  after(async () => {
    if (process.env.E2E_DEBUG) {
      for (const page of pages) console.log(page.url(), { errors: page.errors, apiPosts: page.apiPosts });
    }
    for (const page of pages) await page.context().close();
  });

  function checkPage(page) {
    const csp = page.errors.filter((e) => /Content Security Policy/i.test(e));
    assert.deepEqual(csp, [], `CSP errors on ${page.url()}`);
    const uncaught = page.errors.filter((e) => e.startsWith('uncaught:'));
    assert.deepEqual(uncaught, [], `uncaught errors on ${page.url()}`);
    const expected = javaScriptEnabled ? 'fetch' : 'document';
    const other = page.apiPosts.filter((p) => p.type !== expected);
    assert.deepEqual(other, [], `API posts not sent as ${expected}`);
  }

  return { freshPage, checkPage };
}

export const PASSWORD = 'violet tractor sings at dawn';

/** Ticks the required purposes (terms of service, privacy policy) of a consent question. */
export async function acceptRequired(page) {
  await page.getByLabel('I accept the Terms of service (required)').check();
  await page.getByLabel('I accept the Privacy policy (required)').check();
}

/**
 * Answers the consent step that a first sign-in after a sign-up without the registration form
 * (passkey, social, email) stops at: accepts the required purposes and goes on.
 */
export async function answerConsentStep(page) {
  await waitForPath(page, '/signin/consent');
  await acceptRequired(page);
  await page.getByRole('button', { name: 'Accept and continue', exact: true }).click();
}

/**
 * Registers `email` (display name "Ada Lovelace") on `page` and confirms it from the mail;
 * the page ends on /signin?verified=1.
 */
export async function registerConfirmed(page, email, { javaScriptEnabled }) {
  const mode = { javaScriptEnabled };
  await open(page, '/register', mode);
  await page.locator('#email').fill(email);
  await page.locator('#display_name').fill('Ada Lovelace');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  if (javaScriptEnabled) await waitForText(page.locator('.strength'), /\S/);
  await acceptRequired(page);
  await page.getByRole('button', { name: 'Create account', exact: true }).click();
  await waitForPath(page, '/register/sent');
  const mail = await sink.waitForMail({ to: email, subject: 'Confirm your email address for Keyhaven' });
  await open(page, linkIn(mail, '/verify-email'), mode);
  await page.getByRole('button', { name: 'Confirm my email address', exact: true }).click();
  await waitForPath(page, '/signin', '?verified=1');
  // The sign-in page starts a passkey autofill ceremony, which writes the session. The store
  // merges each request's changes, so the journey could go on at once; settling keeps the
  // steps of a journey in the order a person takes them.
  if (javaScriptEnabled) await page.waitForLoadState('networkidle');
}

/** Signs in with email and password from /signin; the page ends on /profile. */
export async function signInWithPassword(page, email, { javaScriptEnabled }) {
  await open(page, '/signin', { javaScriptEnabled });
  await page.locator('#email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await waitForPath(page, '/profile');
}
