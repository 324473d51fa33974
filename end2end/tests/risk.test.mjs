// The risk engine in a real browser: a new device from a new country is asked for a second
// factor (a mailed code, for someone who set up none) and the owner is mailed "was this you?";
// travel nobody makes is refused with its reasons. Run with JavaScript on and off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { open } from '../support/browser.mjs';
import { codeIn } from '../support/smtp-sink.mjs';
import {
  server,
  sink,
  uniqueEmail,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
  signInWithPassword,
  browserAt,
  PLACES,
  PASSWORD,
} from '../support/journey.mjs';

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    /** A page whose browser is at `ip`. */
    async function pageAt(ip) {
      const { page, context } = await freshPage();
      await browserAt(context, ip);
      return page;
    }

    async function password(page, email) {
      await open(page, '/signin', mode);
      await page.locator('#email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    }

    test('a new device from a new country steps up, and the owner is told', async () => {
      const email = uniqueEmail();
      const home = await pageAt(PLACES.berlin);
      await registerConfirmed(home, email, mode);
      await signInWithPassword(home, email, mode);
      // Days go by.
      await server.sql("UPDATE risk_assessments SET created_at = now() - interval '2 days'");

      const abroad = await pageAt(PLACES.tokyo);
      await password(abroad, email);
      await waitForPath(abroad, '/signin/second-factor');
      if (javaScriptEnabled) await open(abroad, '/signin/second-factor', mode);
      await abroad.getByRole('button', { name: 'Email me a code', exact: true }).click();
      await waitForPath(abroad, '/signin/second-factor', '?email_sent=1');
      const mail = await sink.waitForMail({ to: email, subject: /confirmation code/ });
      await abroad.locator('#email-code').fill(codeIn(mail));
      await abroad.getByRole('button', { name: 'Confirm', exact: true }).click();
      await waitForPath(abroad, '/profile');

      const told = await sink.waitForMail({ to: email, subject: /was this you\?$/ });
      assert.match(told.text, /JP \(network address 203\.0\.113\.10\)/);
      assert.match(told.text, /\/reset-password\?token=/);
      checkPage(abroad);
    });

    test('travel nobody makes is refused, with the reasons', async () => {
      const email = uniqueEmail();
      const home = await pageAt(PLACES.berlin);
      await registerConfirmed(home, email, mode);
      await signInWithPassword(home, email, mode);

      const abroad = await pageAt(PLACES.tokyo);
      await password(abroad, email);
      await waitForText(abroad.locator('.form-error'), 'too far to travel');
      await open(abroad, '/profile', mode);
      await waitForPath(abroad, '/signin');
    });
  });
}
