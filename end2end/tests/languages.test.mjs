// The portal in German, in a real browser: a German browser registers, gets its mail in German,
// confirms and signs in on German pages; the profile's setting then switches to English and a
// time zone, and every moment shown follows it. Run with JavaScript on (the German page must
// hydrate as German) and off (plain posts). The expected words come from the translation files,
// so the test checks that the right language is chosen, not a copy of its wording.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { linkIn } from '../support/smtp-sink.mjs';
import { open } from '../support/browser.mjs';
import { sink, uniqueEmail, text, waitForText, waitForPath, usePages, PASSWORD } from '../support/journey.mjs';

async function words(part, language) {
  const file = new URL(`../../app/locales/${language}/${part}.json`, import.meta.url);
  return JSON.parse(await readFile(file, 'utf8'));
}

/** `template` with its `{{ name }}` variables filled in from `values`. */
function filled(template, values) {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name) => values[name]);
}

const GERMAN_BROWSER = { 'Accept-Language': 'de-DE,de;q=0.9,en;q=0.4' };

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`a German browser, with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages({
      ...mode,
      setup: (context) => context.setExtraHTTPHeaders(GERMAN_BROWSER),
    });

    test('registers, reads German mail, signs in, then switches to English and Tokyo time', async () => {
      const de = {
        account: await words('account', 'de'),
        signin: await words('signin', 'de'),
        profile: await words('profile', 'de'),
        preferences: await words('preferences', 'de'),
        mail: await words('mail', 'de'),
        common: await words('common', 'de'),
      };
      const en = { profile: await words('profile', 'en'), preferences: await words('preferences', 'en') };
      const email = uniqueEmail();
      const { page } = await freshPage();

      await open(page, '/register', mode);
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');
      assert.equal(await text(page.locator('h1')), de.account.heading);
      assert.equal(await text(page.locator('.skip-link')), de.common.skip_to_content);
      await page.locator('#email').fill(email);
      await page.locator('#display_name').fill('Grete Weiss');
      await page.getByLabel(de.account.password_label, { exact: true }).fill(PASSWORD);
      if (javaScriptEnabled) await waitForText(page.locator('.strength'), /\S/);
      await page.locator('input[name="consent[terms]"]').check();
      await page.locator('input[name="consent[privacy]"]').check();
      await page.getByRole('button', { name: de.account.submit, exact: true }).click();
      await waitForPath(page, '/register/sent');
      await waitForText(page.locator('h1'), de.account.sent_heading);

      // The mail is German, and its link leads to German pages.
      const subject = filled(de.mail.verify_email_subject, { product: 'Keyhaven' });
      const mail = await sink.waitForMail({ to: email, subject });
      assert.ok(mail.text.startsWith('Hallo Grete Weiss,'), mail.text);
      await open(page, linkIn(mail, '/verify-email'), mode);
      await page.getByRole('button', { name: de.account.verify_submit, exact: true }).click();
      await waitForPath(page, '/signin', '?verified=1');
      await waitForText(page.locator('.notice'), de.signin.notice_verified);
      if (javaScriptEnabled) await page.waitForLoadState('networkidle');

      await page.locator('#email').fill(email);
      await page.getByLabel(de.signin.password_label, { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: de.signin.submit, exact: true }).click();
      await waitForPath(page, '/profile');
      await waitForText(page.locator('h1'), de.profile.heading);
      await waitForText(page.locator('#preferences-heading'), de.preferences.heading);
      assert.equal(await page.locator('#locale').inputValue(), 'de');
      assert.equal(await page.locator('#time_zone').inputValue(), 'UTC');

      // The setting: English, and Tokyo time for every moment shown.
      await page.locator('#locale').selectOption('en');
      await page.locator('#time_zone').selectOption('Asia/Tokyo');
      await page.getByRole('button', { name: de.preferences.save, exact: true }).click();
      await waitForPath(page, '/profile', '?preferences_saved=1');
      await waitForText(page.locator('.notice[role="status"]'), en.preferences.saved);
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.equal(await text(page.locator('h1')), en.profile.heading);
      await waitForText(page.locator('[data-sign-in]'), / JST/);
      assert.equal(await page.locator('#time_zone').inputValue(), 'Asia/Tokyo');
      checkPage(page);
    });
  });
}
