// Second factors in a real browser: an authenticator app set up from the profile by reading
// the key off the page, then asked for at sign-in; a replayed code refused; a recovery code
// instead; an administrator made to set one up before reaching anything. Run with JavaScript
// on (hydrated forms) and off (plain posts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { open } from '../support/browser.mjs';
import { Authenticator } from '../support/authenticator.mjs';
import {
  server,
  sink,
  uniqueEmail,
  text,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
  signInWithPassword,
  PASSWORD,
} from '../support/journey.mjs';

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    /** Email and password from /signin; the second step's page is next. */
    async function passwordThenSecondStep(page, email) {
      await open(page, '/signin', mode);
      await page.locator('#email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitForPath(page, '/signin/second-factor');
      if (javaScriptEnabled) await open(page, '/signin/second-factor', mode);
    }

    /** Reads the key off the setup on the page; returns the app holding it. */
    async function readKey(page) {
      assert.ok(await page.locator('.qr-code svg').isVisible(), 'the QR code is drawn inline');
      return new Authenticator(await text(page.locator('[data-totp-key]')));
    }

    /** The recovery codes page: reads the codes, then goes on. */
    async function saveRecoveryCodes(page) {
      await waitForPath(page, '/profile/recovery-codes');
      await waitForText(page.locator('[data-recovery-codes]'), /\w{5}-\w{5}/);
      const codes = await page.locator('[data-recovery-codes] li').allInnerTexts();
      await page.getByRole('link', { name: 'I saved them, continue' }).click();
      return codes.map((c) => c.trim());
    }

    test('an authenticator app, a replayed code, and a recovery code', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      await signInWithPassword(page, email, mode);

      // Set up from the profile: scan (here: read) the key, confirm with a first code.
      await page.getByRole('link', { name: 'Set up an authenticator app' }).click();
      await waitForPath(page, '/profile/authenticator');
      if (javaScriptEnabled) await open(page, '/profile/authenticator', mode);
      const app = await readKey(page);
      await page.locator('#code').fill(app.code());
      await page.getByRole('button', { name: 'Turn on', exact: true }).click();
      const codes = await saveRecoveryCodes(page);
      assert.equal(codes.length, 10);
      await waitForPath(page, '/profile');
      await waitForText(page.locator('[data-recovery-left]'), 'Recovery codes left: 10');
      await sink.waitForMail({ to: email, subject: 'How you sign in to Keyhaven changed' });

      // Signing in now asks for a code from the app.
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await waitForPath(page, '/');
      await passwordThenSecondStep(page, email);
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');
      await passwordThenSecondStep(page, email);
      const code = app.nextCode();
      await page.locator('#code').fill(code);
      await page.getByRole('button', { name: 'Confirm', exact: true }).first().click();
      await waitForPath(page, '/profile');

      // The same code from another browser is refused.
      const other = (await freshPage()).page;
      await passwordThenSecondStep(other, email);
      await other.locator('#code').fill(code);
      await other.getByRole('button', { name: 'Confirm', exact: true }).first().click();
      await waitForText(other.locator('.field-error').first(), 'already used');

      // A recovery code gets in instead, once.
      await other.getByText('Use a recovery code').click();
      await other.locator('#recovery-code').fill(codes[0]);
      await other.getByRole('button', { name: 'Use this code', exact: true }).click();
      await waitForPath(other, '/profile');
      await waitForText(other.locator('[data-recovery-left]'), 'Recovery codes left: 9');
      checkPage(page);
    });

    test('an administrator sets up a second factor before reaching anything', async () => {
      const email = uniqueEmail();
      const out = await server.cli(['admin', 'create', '--email', email]);
      const link = out.match(/https?:\/\/\S+/)[0];
      const { page } = await freshPage();
      await open(page, link, mode);
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Set new password', exact: true }).click();
      await waitForPath(page, '/signin/second-factor');
      if (javaScriptEnabled) await open(page, '/signin/second-factor', mode);
      await waitForText(page.locator('h1'), 'Set up a second step');

      // Nothing else opens before it is done.
      const elsewhere = page.context();
      const probe = await elsewhere.newPage();
      await probe.goto(`${server.baseURL}/profile`);
      await waitForPath(probe, '/signin');
      await probe.close();

      const app = await readKey(page);
      await page.locator('#code').fill(app.code());
      await page.getByRole('button', { name: 'Confirm and go on', exact: true }).click();
      const codes = await saveRecoveryCodes(page);
      assert.equal(codes.length, 10);
      await waitForPath(page, '/profile');
      await waitForText(page.locator('.security'), 'Your account must sign in with a second step.');
      checkPage(page);
    });
  });
}
