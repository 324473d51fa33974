// Passwordless sign-in by email in a real browser: one request from /signin mails a 6-digit code
// (typed in the browser that asked) and a single-use link (opened in any browser), run once with
// JavaScript on (hydrated Leptos) and once with it off (plain posts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { linkIn } from '../support/smtp-sink.mjs';
import { open, settle } from '../support/browser.mjs';
import {
  sink,
  server,
  browser,
  uniqueEmail,
  text,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
} from '../support/journey.mjs';

const SUBJECT = {
  signIn: /^Your Keyhaven sign-in code is \d{6}$/,
};
const CODE_API = '/api/email-sign-in/code';

/** "2026-11-29 05:40 UTC", as the link page formats times. */
function utcMinute(date) {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The code and link of a sign-in mail; the code is in the subject and on a line of its own. */
function signInMail(mail) {
  const code = mail.subject.match(/(\d{6})$/)[1];
  const lines = mail.text.split('\n').map((l) => l.trim());
  assert.ok(lines.includes(code), `the code ${code} is on its own line:\n${mail.text}`);
  const link = linkIn(mail, '/signin/email');
  assert.equal(new URL(link).origin, server.baseURL, 'the link points at the public URL');
  assert.ok(new URL(link).searchParams.get('token'), 'the link carries a token');
  return { code, link };
}

/** A six-digit code that is not `code`. */
function wrongCode(code, n = 1) {
  return String((Number(code) + n) % 1_000_000).padStart(6, '0');
}

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    /** Registers `email` and confirms it from the mail, in a context of its own. */
    async function createAccount(email) {
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      checkPage(page);
      await page.context().close();
    }

    /** Asks for a link and code from /signin and lands on the code page. */
    async function requestSignIn(page, email) {
      await open(page, '/signin', mode);
      const section = page.getByRole('region', { name: 'Sign in without a password' });
      await section.getByLabel('Email').fill(email);
      await section.getByRole('button', { name: 'Email me a link and code', exact: true }).click();
      await waitForPath(page, '/signin/code');
      await waitForText(page.locator('h1'), 'Check your inbox');
      if (javaScriptEnabled) await settle(page);
    }

    async function enterCode(page, code) {
      await page.getByLabel('Code').fill(code);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    }

    /** Opens a mailed link; the page shows for whom it is, or why it no longer works. */
    async function openLink(page, link) {
      await open(page, link, mode);
      await waitForText(page.locator('h1'), 'Sign in with your link');
      await waitForText(page.locator('main'), /Sign in as |This link/);
    }

    async function expectUsedLink(page, link) {
      await openLink(page, link);
      await waitForText(page.locator('.form-error'), 'This link has already been used.');
      assert.equal(await page.locator('main').getByRole('button', { name: 'Sign in', exact: true }).count(), 0);
    }

    test('sign in with the emailed code', async () => {
      const email = uniqueEmail();
      await createAccount(email);
      const { page } = await freshPage();

      await requestSignIn(page, email);
      const { code, link } = signInMail(await sink.waitForMail({ to: email, subject: SUBJECT.signIn }));

      // A wrong code is refused next to the field.
      await enterCode(page, wrongCode(code));
      await waitForText(page.locator('#code-error'), 'That code is not right. 4 attempts left.');
      assert.equal(await page.getByLabel('Code').getAttribute('aria-invalid'), 'true');
      assert.match(await page.getByLabel('Code').getAttribute('aria-describedby'), /\bcode-error\b/);
      await waitForPath(page, '/signin/code');

      // The right one signs in.
      await enterCode(page, code);
      await waitForPath(page, '/profile');
      await waitForText(page.locator('dl.facts'), email);
      await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Ada Lovelace');

      // The code used the request up: its link no longer works.
      await expectUsedLink(page, link);
      checkPage(page);
    });

    test('sign in with the emailed link in another browser', async () => {
      const email = uniqueEmail();
      await createAccount(email);
      const { page: asking } = await freshPage();

      const askedAt = new Date();
      await requestSignIn(asking, email);
      const { link } = signInMail(await sink.waitForMail({ to: email, subject: SUBJECT.signIn }));
      const answeredAt = new Date();
      const when = new RegExp(
        `Asked for at (${[...new Set([utcMinute(askedAt), utcMinute(answeredAt)])].join('|')}) ` +
          `from Chrome on Linux \\(127\\.0\\.0\\.1\\)\\.`,
      );

      // In the browser that asked, the link page shows no warning (and looking uses nothing up).
      await openLink(asking, link);
      await waitForText(asking.locator('main'), `Sign in as ${email}?`);
      await waitForText(asking.locator('main'), when);
      assert.equal(await asking.locator('.warning').count(), 0);

      // Another browser is warned and told which device asked.
      const { page: other } = await freshPage();
      await openLink(other, link);
      await waitForText(other.locator('main'), `Sign in as ${email}?`);
      await waitForText(other.locator('main'), when);
      await waitForText(
        other.getByRole('note'),
        'This link was asked for from another browser or device. Continue only if that was you.',
      );
      await other.locator('main').getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitForPath(other, '/profile');
      await waitForText(other.locator('dl.facts'), email);

      // The link works once, in any browser.
      await expectUsedLink(other, link);
      await expectUsedLink(asking, link);
      const { page: third } = await freshPage();
      await expectUsedLink(third, link);

      // The asking browser was not signed in by the other one's click.
      await open(asking, '/profile', mode);
      await waitForPath(asking, '/signin');
      for (const p of [asking, other, third]) checkPage(p);
    });

    if (javaScriptEnabled) {
      test('five wrong codes end the request', async () => {
        const email = uniqueEmail();
        await createAccount(email);
        const { page } = await freshPage();

        await requestSignIn(page, email);
        const { code } = signInMail(await sink.waitForMail({ to: email, subject: SUBJECT.signIn }));

        /** Submits `guess` and waits for the server's answer to it. */
        async function submit(guess) {
          const answered = page.waitForResponse((r) => new URL(r.url()).pathname === CODE_API);
          await enterCode(page, guess);
          return answered;
        }

        for (const left of [4, 3, 2, 1]) {
          await submit(wrongCode(code, left));
          const s = left === 1 ? '' : 's';
          await waitForText(page.locator('#code-error'), `That code is not right. ${left} attempt${s} left.`);
        }
        await submit(wrongCode(code, 5));
        await waitForText(page.locator('#code-error'), 'Too many wrong codes. Ask for a new one.');

        // Even the right code is refused now.
        const response = await submit(code);
        assert.equal(response.status(), 422);
        await waitForText(page.locator('#code-error'), 'Too many wrong codes. Ask for a new one.');
        await waitForPath(page, '/signin/code');
        await open(page, '/profile', mode);
        await waitForPath(page, '/signin');
        checkPage(page);
      });
    }

    test('an unknown address gets the same answer and no mail', async () => {
      const known = uniqueEmail();
      const unknown = uniqueEmail();
      await createAccount(known);

      const { page: stranger } = await freshPage();
      const askedAt = Date.now();
      await requestSignIn(stranger, unknown);
      const { page: owner } = await freshPage();
      await requestSignIn(owner, known);
      assert.equal(await text(stranger.locator('main')), await text(owner.locator('main')));

      // The sink works: the known address gets its mail ...
      await sink.waitForMail({ to: known, subject: SUBJECT.signIn });
      // ... and the unknown one gets nothing.
      await new Promise((r) => setTimeout(r, Math.max(0, askedAt + 2_000 - Date.now())));
      assert.deepEqual(sink.mailTo(unknown), []);
      checkPage(stranger);
      checkPage(owner);
    });
  });
}
