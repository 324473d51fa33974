// Customer accounts in a real browser: registration, verification, sign-in, profile, sign-out and
// password recovery, run once with JavaScript on (hydrated Leptos) and once with it off (plain posts).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { linkIn } from '../support/smtp-sink.mjs';
import { open, settle } from '../support/browser.mjs';
import { sink, server, browser, browserAt, acceptRequired, uniqueEmail, text, waitForText, waitForPath, usePages } from '../support/journey.mjs';

const PASSWORD = 'violet tractor sings at dawn';
const NEW_PASSWORD = 'copper lantern hums near midnight';
const SUBJECT = {
  verify: 'Confirm your email address for Keyhaven',
  duplicate: 'Someone tried to register with your address at Keyhaven',
  reset: 'Reset your Keyhaven password',
  changed: 'Your Keyhaven password was changed',
  confirmNew: 'Confirm the new email address of your Keyhaven account',
  addressChanged: 'The email address of your Keyhaven account changed',
};

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    async function register(page, { email, name = 'Ada Lovelace', password = PASSWORD }) {
      await open(page, '/register', mode);
      await page.locator('#email').fill(email);
      await page.locator('#display_name').fill(name);
      await page.getByLabel('Password', { exact: true }).fill(password);
      if (javaScriptEnabled) {
        // Hydrated: the strength meter asks the server and shows its reading.
        await waitForText(page.locator('.strength'), /\S/);
      }
      await acceptRequired(page);
      await page.getByRole('button', { name: 'Create account', exact: true }).click();
    }

    async function signIn(page, { email, password }) {
      await open(page, '/signin', mode);
      await page.locator('#email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    }

    /** Registers `email` with PASSWORD, confirms it from the mail and signs in. */
    async function signedUp(page, email) {
      await register(page, { email });
      await waitForPath(page, '/register/sent');
      await confirmEmail(page, email);
      await signIn(page, { email, password: PASSWORD });
      await waitForPath(page, '/profile');
    }

    async function confirmEmail(page, email) {
      const mail = await sink.waitForMail({ to: email, subject: SUBJECT.verify });
      const link = linkIn(mail, '/verify-email');
      assert.equal(new URL(link).origin, server.baseURL, 'the link points at the public URL');
      await open(page, link, mode);
      await page.getByRole('button', { name: 'Confirm my email address', exact: true }).click();
      await waitForPath(page, '/signin', '?verified=1');
      await waitForText(page.locator('.notice'), 'Your email address is confirmed');
      return link;
    }

    test('the whole account journey', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();

      // Home links to both entry points.
      await open(page, '/', mode);
      assert.ok(await page.locator('main').getByRole('link', { name: 'Sign in' }).isVisible());
      await page.locator('main').getByRole('link', { name: 'Create account' }).click();
      await waitForPath(page, '/register');

      // Register, then confirm the address from the mail.
      await register(page, { email });
      await waitForPath(page, '/register/sent');
      await waitForText(page.locator('h1'), 'Check your inbox');
      const link = await confirmEmail(page, email);

      // The link works once.
      await open(page, link, mode);
      await page.getByRole('button', { name: 'Confirm my email address', exact: true }).click();
      await waitForText(page.locator('.form-error'), 'This link has already been used.');

      // Sign in: the profile shows the verified address.
      await signIn(page, { email, password: PASSWORD });
      await waitForPath(page, '/profile');
      await waitForText(page.locator('dl.facts'), email);
      assert.equal(await text(page.locator('dl.facts .badge')), 'verified');
      assert.equal(await page.getByLabel('Display name').inputValue(), 'Ada Lovelace');
      await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Ada Lovelace');

      // Change the display name.
      if (javaScriptEnabled) await settle(page);
      await page.getByLabel('Display name').fill('Ada King');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      if (javaScriptEnabled) {
        await waitForText(page.getByRole('status'), 'Saved.');
      } else {
        await waitForPath(page, '/profile'); // the post came back to the page
      }
      await open(page, '/profile', mode);
      assert.equal(await page.getByLabel('Display name').inputValue(), 'Ada King');
      await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Ada King');

      // Sign out: back home, signed out, and the old session cookie is dead on the server too.
      const signedInCookies = await page.context().cookies();
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await waitForPath(page, '/');
      await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Sign in');
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');
      const replay = (await freshPage()).page;
      await replay.context().addCookies(signedInCookies);
      await open(replay, '/profile', mode);
      await waitForPath(replay, '/signin');

      // A wrong password is refused.
      await signIn(page, { email, password: 'violet tractor sings at dusk' });
      await waitForText(page.locator('.form-error'), 'Incorrect email or password.');
      await waitForPath(page, '/signin');

      // Another device signs in before the reset.
      const other = (await freshPage()).page;
      await signIn(other, { email, password: PASSWORD });
      await waitForPath(other, '/profile');
      await waitForText(other.locator('dl.facts'), email);

      // Forgot password → mail → new password → signed in on the profile.
      await open(page, '/forgot-password', mode);
      await page.locator('#email').fill(email);
      await page.getByRole('button', { name: 'Send reset link', exact: true }).click();
      await waitForPath(page, '/forgot-password/sent');
      await waitForText(page.locator('h1'), 'Check your inbox');
      const reset = await sink.waitForMail({ to: email, subject: SUBJECT.reset });
      await open(page, linkIn(reset, '/reset-password'), mode);
      await page.getByLabel('New password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password', exact: true }).click();
      await waitForPath(page, '/profile', '?password_changed=1');
      await waitForText(page.locator('.notice'), 'Your password was changed');
      await waitForText(page.locator('dl.facts'), email);
      await sink.waitForMail({ to: email, subject: SUBJECT.changed });

      // The other device was signed out by the reset.
      await open(other, '/profile', mode);
      await waitForPath(other, '/signin');

      // The old password no longer works; the new one does.
      await signIn(other, { email, password: PASSWORD });
      await waitForText(other.locator('.form-error'), 'Incorrect email or password.');
      await signIn(other, { email, password: NEW_PASSWORD });
      await waitForPath(other, '/profile');
      await waitForText(other.locator('dl.facts'), email);

      for (const p of [page, other, replay]) checkPage(p);
    });

    test('registering an address that already has an account looks the same and warns its owner', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await register(page, { email });
      await waitForPath(page, '/register/sent');
      await sink.waitForMail({ to: email, subject: SUBJECT.verify });

      const second = (await freshPage()).page;
      await register(second, { email, name: 'Someone Else' });
      await waitForPath(second, '/register/sent');
      await waitForText(second.locator('h1'), 'Check your inbox');
      assert.equal(await text(second.locator('main')), await text(page.locator('main')));
      const warning = await sink.waitForMail({ to: email, subject: SUBJECT.duplicate });
      assert.ok(warning.text.length > 0);
      // No second verification link: the owner gets the warning only.
      assert.deepEqual(sink.mailTo(email).map((m) => m.subject), [SUBJECT.verify, SUBJECT.duplicate]);
      checkPage(page);
      checkPage(second);
    });

    test('signing in before verifying asks for verification and can resend the link', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await register(page, { email });
      await waitForPath(page, '/register/sent');
      await sink.waitForMail({ to: email, subject: SUBJECT.verify });

      await signIn(page, { email, password: PASSWORD });
      await waitForText(page.locator('.form-error'), 'Please verify your email address first');
      await waitForPath(page, '/signin');
      await page.getByRole('button', { name: 'Resend confirmation link', exact: true }).click();
      await waitForPath(page, '/register/sent');

      // The new link confirms the address.
      await confirmEmail(page, email);
      await signIn(page, { email, password: PASSWORD });
      await waitForPath(page, '/profile');
      await waitForText(page.locator('dl.facts'), email);
      checkPage(page);
    });

    test('move the account to another address, then undo it from the old one', async () => {
      const email = uniqueEmail();
      const moved = uniqueEmail();
      const { page } = await freshPage();
      await signedUp(page, email);

      // Ask for the move: nothing changes until the new address proves itself.
      if (javaScriptEnabled) await settle(page);
      await page.getByLabel('New email address').fill(moved);
      await page.getByRole('button', { name: 'Send a confirmation link', exact: true }).click();
      await waitForPath(page, '/profile', '?email_change_sent=1');
      await waitForText(page.locator('.notice'), 'We sent a link to the new address');
      await waitForText(page.locator('dl.facts'), email);
      const confirm = await sink.waitForMail({ to: moved, subject: SUBJECT.confirmNew });
      await open(page, linkIn(confirm, '/confirm-email-change'), mode);
      await page.getByRole('button', { name: 'Use this address', exact: true }).click();
      await waitForPath(page, '/profile', '?email_changed=1');
      await waitForText(page.locator('dl.facts'), moved);

      // The old address is told, and undoes the move from another browser.
      const notice = await sink.waitForMail({ to: email, subject: SUBJECT.addressChanged });
      assert.ok(!notice.text.includes(moved), 'the new address is masked');
      const owner = (await freshPage()).page;
      await open(owner, linkIn(notice, '/undo-email-change'), mode);
      await owner.getByRole('button', { name: 'Put my address back', exact: true }).click();
      await waitForPath(owner, '/signin', '?email_restored=1');
      await waitForText(owner.locator('.notice'), 'Your email address is back');

      // The browser that moved it is signed out, and the password must be chosen again.
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');
      const reset = await sink.waitForMail({ to: email, subject: SUBJECT.reset });
      await open(owner, linkIn(reset, '/reset-password'), mode);
      await owner.getByLabel('New password').fill(NEW_PASSWORD);
      await owner.getByRole('button', { name: 'Set new password', exact: true }).click();
      await waitForPath(owner, '/profile', '?password_changed=1');
      await waitForText(owner.locator('dl.facts'), email);
      checkPage(page);
      checkPage(owner);
    });

    test('end another sign-in from the list, change the password, read the activity', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await signedUp(page, email);
      const other = (await freshPage()).page;
      await signIn(other, { email, password: PASSWORD });
      await waitForPath(other, '/profile');

      // Both sign-ins are listed, this one marked; the other is ended from here.
      await open(page, '/profile', mode);
      if (javaScriptEnabled) await settle(page);
      const signIns = page.locator('ul.sign-ins > li');
      await waitForText(signIns.first(), /\S/);
      assert.equal(await signIns.count(), 2);
      assert.equal(await signIns.filter({ hasText: 'this device' }).count(), 1);
      const elsewhere = signIns.filter({ hasNotText: 'this device' });
      await waitForText(elsewhere, 'by password');
      await elsewhere.getByRole('button', { name: 'End sign-in', exact: true }).click();
      await waitForPath(page, '/profile', '?sign_in_ended=1');
      await waitForText(page.locator('.notice'), 'That device is signed out.');
      await open(other, '/profile', mode);
      await waitForPath(other, '/signin');

      // A new password, proven by the current one.
      await open(page, '/profile', mode);
      if (javaScriptEnabled) await settle(page);
      await page.getByLabel('Current password').fill(PASSWORD);
      await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Change password', exact: true }).click();
      await waitForPath(page, '/profile', '?password_changed=1');
      await waitForText(page.locator('.notice'), 'Your password was changed');
      await sink.waitForMail({ to: email, subject: SUBJECT.changed });

      // The activity page tells the story, newest first.
      await page.getByRole('link', { name: 'See your account activity', exact: true }).click();
      await waitForPath(page, '/profile/activity');
      const events = page.locator('ol.timeline > li');
      await waitForText(events.first(), 'Your password was changed');
      await waitForText(events.nth(1), 'You signed out another device');
      checkPage(page);
    });

    test('grant and withdraw a consent in one click each, with its history', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await signedUp(page, email);

      await page.getByRole('link', { name: 'Your privacy choices', exact: true }).click();
      await waitForPath(page, '/profile/consents');
      if (javaScriptEnabled) await settle(page);
      const marketing = page.locator('li[data-purpose="marketing_email"]');
      await waitForText(marketing.locator('[data-choice]'), 'Not chosen yet');
      await marketing.getByRole('button', { name: 'Accept Marketing email', exact: true }).click();
      await waitForPath(page, '/profile/consents', '?saved=1');
      await waitForText(page.locator('.notice'), 'Your choice is saved.');
      await waitForText(marketing.locator('[data-choice]'), 'Accepted version 1 on');
      await marketing.getByRole('button', { name: 'Withdraw Marketing email', exact: true }).click();
      await waitForText(marketing.locator('[data-choice]'), 'Declined version 1 on');
      // Required ones have no withdraw button.
      const terms = page.locator('li[data-purpose="terms"]');
      assert.equal(await terms.getByRole('button', { name: 'Withdraw Terms of service' }).count(), 0);

      const history = page.locator('li[data-consent-record]');
      await waitForText(history.first(), 'Withdrew Marketing email (version 1)');
      await waitForText(history.nth(1), 'Accepted Marketing email (version 1)');
      // The terms ticked on the registration form are there too.
      await waitForText(history.nth(3), /Accepted Terms of service \(version \d+\)/);
      await waitForText(history.nth(3), 'at registration');
      assert.equal(await history.count(), 4);
      checkPage(page);
    });

    test('new terms are asked at the next sign-in, before anything else', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await signedUp(page, email);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await waitForPath(page, '/');
      await server.cli(['consent', 'publish', 'terms', '--text', `Revised terms ${randomBytes(4).toString('hex')}.`]);

      await signIn(page, { email, password: PASSWORD });
      await waitForPath(page, '/signin/consent');
      await waitForText(page.locator('h1'), 'Before you go on');
      await waitForText(page.locator('main'), 'Our terms have changed since you last accepted them.');
      // Not signed in meanwhile: the profile sends the browser back to sign in.
      const other = await page.context().newPage();
      await other.goto('/profile');
      await waitForPath(other, '/signin');
      await other.close();
      const box = page.getByLabel('I accept the Terms of service (required)');
      await page.locator('details', { hasText: 'Read it' }).first().locator('summary').click();
      await waitForText(page.locator('.policy-text').first(), 'Revised terms');
      await box.check();
      await page.getByRole('button', { name: 'Accept and continue', exact: true }).click();
      await waitForPath(page, '/profile');
      checkPage(page);
    });

    test('download my data: asked for, prepared, downloaded', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await signedUp(page, email);
      await page.getByRole('link', { name: 'Download your data', exact: true }).click();
      await waitForPath(page, '/profile/data');
      if (javaScriptEnabled) await settle(page);
      await waitForText(page.locator('[data-export-state]'), 'You have not asked for your data yet.');
      await page.getByRole('button', { name: 'Download my data', exact: true }).click();
      await waitForText(page.locator('[data-export-state="ready"]'), 'Your data is ready', 20_000);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download as JSON (for other programs)' }).click(),
      ]);
      const file = JSON.parse(await readFile(await download.path(), 'utf8'));
      assert.equal(file.format, 'keyhaven-export/1');
      assert.equal(file.tables.users.rows[0].email, email);
      assert.equal(file.tables.users.rows[0].password_hash, undefined);
      checkPage(page);
    });

    test('field errors appear next to their fields', async () => {
      const { page } = await freshPage();

      // "ada@localhost" passes the browser's own check but is no public address.
      await register(page, { email: 'ada@localhost' });
      await waitForText(page.locator('#email-error'), 'Enter an email address like name@example.com.');
      assert.equal(await page.locator('#email').getAttribute('aria-invalid'), 'true');
      assert.match(await page.locator('#email').getAttribute('aria-describedby'), /\bemail-error\b/);
      assert.equal(await text(page.locator('#password-error')), '');
      assert.equal(await text(page.locator('.form-error')), '');
      await waitForPath(page, '/register');

      const email = uniqueEmail();
      await register(page, { email, password: 'password' });
      await waitForText(page.locator('#password-error'), 'commonly used passwords');
      assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
      assert.equal(await text(page.locator('#email-error')), '');
      await waitForPath(page, '/register');

      // Nothing was registered, so nothing was mailed.
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(sink.mailTo(email), []);
      checkPage(page);
    });

    test('ten failed sign-ins lock the account for a while', async () => {
      const email = uniqueEmail();
      const { page, context } = await freshPage();
      // From a network of its own: on the loopback, both runs' failures would add up to the
      // 20 that make a network pay a proof of work for every further password.
      await browserAt(context, javaScriptEnabled ? '192.0.2.77' : '198.18.0.77');
      await register(page, { email });
      await waitForPath(page, '/register/sent');
      await confirmEmail(page, email);

      for (let i = 1; i <= 10; i++) {
        await signIn(page, { email, password: `wrong guess number ${i}` });
        const message = await waitForText(page.locator('.form-error'), /\S/);
        if (i < 10) assert.equal(message, 'Incorrect email or password.', `attempt ${i}`);
      }
      // Even the right password is refused now.
      await signIn(page, { email, password: PASSWORD });
      await waitForText(page.locator('.form-error'), /^Too many failed attempts\. Try again in \d+ minutes?\.$/);
      await waitForPath(page, '/signin');
      checkPage(page);
    });

    test('an unknown address answers "Page not found" with status 404', async () => {
      const { page } = await freshPage();
      const response = await open(page, `/no-such-page-${randomBytes(3).toString('hex')}`, mode);
      assert.equal(response.status(), 404);
      await waitForText(page.locator('h1'), 'Page not found');
      assert.equal(await page.title(), 'Page not found');
      checkPage(page);
    });

    if (javaScriptEnabled) {
      test('no page logs a Content Security Policy violation', async () => {
        const { page } = await freshPage();
        for (const path of ['/', '/register', '/signin', '/forgot-password', '/register/sent', '/reset-password?token=x']) {
          await open(page, path, mode);
        }
        // Hydration really happened: typing shows the strength meter's reading.
        await open(page, '/register', mode);
        await page.getByLabel('Password', { exact: true }).fill('correct horse');
        await waitForText(page.locator('.strength'), /\S/);
        checkPage(page);
      });
    }
  });
}
