// SMS one-time codes in a real browser, the texts going to a local SMS gateway (where these tests
// read them, as a phone would): prove a phone number on the profile, then sign in with a texted
// code; wrong codes, reuse, expiry and too many attempts. Run with JavaScript on
// (hydrated Leptos) and off (plain posts).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';

import { open, settle } from '../support/browser.mjs';
import {
  server,
  sms,
  uniqueEmail,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
  signInWithPassword,
} from '../support/journey.mjs';

/** A US number no other test is likely to use, in E.164 form. */
function uniquePhone() {
  return `+1415555${String(randomInt(1000, 9999))}`;
}

/** "+1 415 555 2671" for `+14155552671`: how a person types it. */
function typed(phone) {
  return `${phone.slice(0, 2)} ${phone.slice(2, 5)} ${phone.slice(5, 8)} ${phone.slice(8)}`;
}

/** Waits for text number `n` (1-based) to `phone` at the SMS gateway; returns its code. */
async function waitForCode(phone, n) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const codes = sms.codesTo(phone);
    if (codes.length >= n) return codes[n - 1];
    if (Date.now() > deadline) assert.fail(`no text #${n} to ${phone}; the gateway has ${JSON.stringify(sms.texts)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function wrongCode(code, n = 1) {
  return String((Number(code) + n) % 1_000_000).padStart(6, '0');
}

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    before(async () => {
      await server.cli(['settings', 'set', 'sms_enabled', 'on']);
    });

    /** An account whose phone number is proven on the profile; returns its address. */
    async function accountWithPhone(phone) {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      await signInWithPassword(page, email, mode);
      const section = page.getByRole('region', { name: 'Phone number' });
      await section.getByLabel('Phone number').fill(typed(phone));
      await section.getByRole('button', { name: 'Text me a code', exact: true }).click();
      await waitForPath(page, '/profile/phone');
      if (javaScriptEnabled) await settle(page);
      const code = await waitForCode(phone, 1);

      await enterCode(page, wrongCode(code), 'Confirm');
      await waitForText(page.locator('#code-error'), 'That code is not right. 4 attempts left.');
      await enterCode(page, code, 'Confirm');
      await waitForPath(page, '/profile', '?phone_added=1');
      await waitForText(page.getByRole('status'), 'Your phone number is confirmed.');
      await waitForText(page.getByRole('region', { name: 'Phone number' }), `${phone} verified`);
      checkPage(page);
      await page.context().close();
      return email;
    }

    async function enterCode(page, code, button = 'Sign in') {
      await page.getByLabel('Code').fill(code);
      await page.getByRole('button', { name: button, exact: true }).click();
    }

    /** Asks for a sign-in text from /signin and lands on the code page. */
    async function requestText(page, phone) {
      await open(page, '/signin', mode);
      await page.getByRole('link', { name: 'Sign in with a text message' }).click();
      await waitForPath(page, '/signin/sms');
      if (javaScriptEnabled) await settle(page);
      await page.getByLabel('Phone number').fill(typed(phone));
      await page.getByRole('button', { name: 'Text me a code', exact: true }).click();
      await waitForPath(page, '/signin/sms/code');
      await waitForText(page.locator('h1'), 'Check your phone');
      if (javaScriptEnabled) await settle(page);
    }

    test('prove a phone number, then sign in with a texted code once', async () => {
      const phone = uniquePhone();
      const email = await accountWithPhone(phone);
      const { page } = await freshPage();

      await requestText(page, phone);
      const code = await waitForCode(phone, 2);
      await enterCode(page, wrongCode(code));
      await waitForText(page.locator('#code-error'), 'That code is not right. 4 attempts left.');
      await enterCode(page, code);
      await waitForPath(page, '/profile');
      await waitForText(page.locator('dl.facts'), email);

      // The code is used up: typing it again on the code page is refused.
      await open(page, '/signin/sms/code', mode);
      if (javaScriptEnabled) await settle(page);
      await enterCode(page, code);
      await waitForText(page.locator('#code-error'), 'Ask for a code first.');
      checkPage(page);
    });

    test('too many wrong codes, and an expired code, are refused', async () => {
      const phone = uniquePhone();
      await accountWithPhone(phone);

      const { page } = await freshPage();
      await requestText(page, phone);
      const code = await waitForCode(phone, 2);
      for (const left of [4, 3, 2, 1]) {
        await enterCode(page, wrongCode(code, left));
        const s = left === 1 ? '' : 's';
        await waitForText(page.locator('#code-error'), `That code is not right. ${left} attempt${s} left.`);
      }
      await enterCode(page, wrongCode(code, 5));
      await waitForText(page.locator('#code-error'), 'Too many wrong codes. Ask for a new one.');
      await enterCode(page, code);
      await waitForText(page.locator('#code-error'), 'Too many wrong codes. Ask for a new one.');
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');

      const { page: late } = await freshPage();
      await requestText(late, phone);
      const lateCode = await waitForCode(phone, 3);
      await server.sql(`UPDATE sms_codes SET expires_at = now() - interval '1 second' WHERE phone = '${phone}'`);
      await enterCode(late, lateCode);
      await waitForText(late.locator('#code-error'), 'This code has expired. Ask for a new one.');
      checkPage(page);
      checkPage(late);
    });
  });
}
