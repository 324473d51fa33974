// Passkeys in a real browser with a virtual authenticator (Chrome DevTools Protocol): passkey-only
// sign-up, usernameless sign-in by button and by autofill, user verification failures, and adding,
// renaming and removing passkeys in the profile. WebAuthn needs JavaScript, so JavaScript is on.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';

import { linkIn } from '../support/smtp-sink.mjs';
import { open } from '../support/browser.mjs';
import { sink, server, browser, acceptRequired, answerConsentStep, uniqueEmail, text, waitForText, waitForPath, usePages } from '../support/journey.mjs';

const PASSWORD = 'violet tractor sings at dawn';
const SUBJECT = {
  verify: 'Confirm your email address for Keyhaven',
};
const MESSAGE = {
  unverified: 'Please verify your email address first. Check your inbox for the link.',
  cancelled: 'The passkey request was cancelled or timed out.',
  notVerified: 'The passkey could not be verified. Try again.',
  unknown: 'This passkey is not registered with us.',
  onlyWay: 'You cannot remove your only way to sign in.',
};
const mode = { javaScriptEnabled: true };

/**
 * Runs in every page of a context before its scripts: the browser claims it cannot offer
 * passkeys in autofill, so /signin opens no conditional request and only the button signs in.
 * (With one passkey on a virtual authenticator, Chromium answers the autofill request at once.)
 */
function withoutAutofill() {
  if (window.PublicKeyCredential) window.PublicKeyCredential.isConditionalMediationAvailable = async () => false;
}

/**
 * A virtual platform authenticator on `page` (resident keys, user verification that succeeds,
 * presence confirmed automatically). Its passkeys stay with the page across navigations.
 */
async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      ctap2Version: 'ctap2_1',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    /** The passkeys the authenticator holds. */
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
    /** Whether the user passes verification (false: the browser refuses the ceremony). */
    setUserVerified: (isUserVerified) => cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified }),
    /** `isBadUV`: the authenticator answers but without the "user verified" flag. */
    overrideResponse: (bits) => cdp.send('WebAuthn.setResponseOverrideBits', { authenticatorId, ...bits }),
  };
}

describe('passkeys (JavaScript on)', () => {
  const { freshPage: openPage, checkPage } = usePages({ ...mode });
  const { freshPage: openPageWithoutAutofill } = usePages({
    ...mode,
    setup: (context) => context.addInitScript(withoutAutofill),
  });

  /** A fresh browser context (own cookies) and page; `autofill: false` turns passkey autofill off. */
  function freshPage({ autofill = false } = {}) {
    return autofill ? openPage() : openPageWithoutAutofill();
  }

  /** Creates an account with a passkey from /register; ends on /register/sent. */
  async function signUpWithPasskey(page, { email, name = 'Ada Lovelace' }) {
    await open(page, '/register', mode);
    const section = page.getByRole('region', { name: 'Or use a passkey, no password needed' });
    await section.getByLabel('Email').fill(email);
    await section.getByLabel('Your name').fill(name);
    await acceptRequired(page);
    await section.getByRole('button', { name: 'Create account with a passkey' }).click();
    await waitForPath(page, '/register/sent');
    await waitForText(page.locator('h1'), 'Check your inbox');
  }

  /** Creates an account with a password from /register; ends on /register/sent. */
  async function registerWithPassword(page, { email, name = 'Ada Lovelace' }) {
    await open(page, '/register', mode);
    await page.locator('#email').fill(email);
    await page.locator('#display_name').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await waitForText(page.locator('.strength'), /\S/);
    await acceptRequired(page);
    await page.getByRole('button', { name: 'Create account', exact: true }).click();
    await waitForPath(page, '/register/sent');
  }

  /** Opens the link of the verification mail and confirms; ends on /signin?verified=1 (for a moment, with autofill). */
  async function confirmEmail(page, email) {
    const mail = await sink.waitForMail({ to: email, subject: SUBJECT.verify });
    const link = linkIn(mail, '/verify-email');
    assert.equal(new URL(link).origin, server.baseURL, 'the link points at the public URL');
    await open(page, link, mode);
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await waitForPath(page, '/signin', '?verified=1');
  }

  async function signInWithPassword(page, { email, password }) {
    await open(page, '/signin', mode);
    await page.locator('#email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** Clicks "Sign in with a passkey" on /signin (a page without autofill). */
  async function signInWithPasskey(page) {
    await open(page, '/signin', mode);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  }

  async function signOut(page) {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitForPath(page, '/');
    await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Sign in');
  }

  /** On /profile: the email is shown and the passkey list reads `names`, in order. */
  async function expectProfile(page, email, names) {
    await waitForPath(page, '/profile');
    await waitForText(page.locator('dl.facts'), email);
    const items = page.locator('section.passkeys li.passkey');
    if (names.length === 0) {
      await waitForText(page.locator('section.passkeys'), 'No passkeys yet.');
    } else {
      await waitForText(items.nth(names.length - 1), /\S/);
    }
    assert.deepEqual(await items.locator('strong').allInnerTexts(), names);
    return items;
  }

  /** The passkey sign-in error on /signin. */
  function passkeyError(page) {
    return page.locator('[data-passkey-error]');
  }

  test('sign up with a passkey only, then autofill signs in', async () => {
    const email = uniqueEmail();
    const { page } = await freshPage({ autofill: true });
    const authenticator = await addAuthenticator(page);

    // The passkey section is revealed (the browser has WebAuthn) and creates the account.
    await signUpWithPasskey(page, { email });
    const credentials = await authenticator.credentials();
    assert.equal(credentials.length, 1, 'one passkey on the device');
    const [credential] = credentials;
    assert.equal(credential.isResidentCredential, true, 'a discoverable passkey');
    assert.equal(credential.rpId, 'localhost');
    assert.equal(credential.userName, email);
    assert.equal(credential.userDisplayName, 'Ada Lovelace');

    // Not verified yet: the autofill request is answered but the server refuses.
    await page.goto('/signin');
    await waitForText(passkeyError(page), MESSAGE.unverified);
    await waitForPath(page, '/signin');

    // Verify; landing on /signin, autofill offers the one passkey and signs in by itself.
    await confirmEmail(page, email);
    const items = await expectProfile(page, email, ['Passkey']);
    assert.match(await text(items.first().locator('p')), /^Passkey · added .+ · last used .+$/);
    assert.equal(await text(page.locator('dl.facts .badge')), 'verified');

    // Signed out and back: autofill again. (Signed out on /register: on /profile the sign-out
    // can pass through /signin on its way home, and the virtual authenticator answers the
    // autofill request opened there at once, signing straight back in.)
    await open(page, '/register', mode);
    await signOut(page);
    await page.waitForTimeout(1_000);
    assert.equal(new URL(page.url()).pathname, '/', 'still home, signed out');
    await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Sign in');
    await page.goto('/signin');
    await expectProfile(page, email, ['Passkey']);

    // The account has no password: any password is refused like a wrong one.
    const other = (await freshPage()).page;
    await signInWithPassword(other, { email, password: PASSWORD });
    await waitForText(other.locator('.form-error'), 'Incorrect email or password.');
    await waitForPath(other, '/signin');
    await open(other, '/profile', mode);
    await waitForPath(other, '/signin');

    checkPage(page);
    checkPage(other);
  });

  test('the passkey button signs in, again and again (the signature counter goes up)', async () => {
    const email = uniqueEmail();
    const { page } = await freshPage();
    const authenticator = await addAuthenticator(page);
    await signUpWithPasskey(page, { email });

    // Not verified yet.
    await signInWithPasskey(page);
    await waitForText(passkeyError(page), MESSAGE.unverified);
    await waitForPath(page, '/signin');

    await confirmEmail(page, email);
    await waitForText(page.locator('.notice'), 'Your email address is confirmed');
    const before = (await authenticator.credentials())[0].signCount;

    await signInWithPasskey(page);
    await expectProfile(page, email, ['Passkey']);
    const first = (await authenticator.credentials())[0].signCount;
    assert.ok(first > before, `signature counter ${before} → ${first}`);

    await signOut(page);
    await open(page, '/profile', mode);
    await waitForPath(page, '/signin');

    await signInWithPasskey(page);
    const items = await expectProfile(page, email, ['Passkey']);
    const second = (await authenticator.credentials())[0].signCount;
    assert.ok(second > first, `signature counter ${first} → ${second}`);
    assert.match(await text(items.first().locator('p')), / · last used /);
    checkPage(page);
  });

  test('without user verification the passkey does not sign in', async () => {
    const email = uniqueEmail();
    const { page } = await freshPage();
    const authenticator = await addAuthenticator(page);
    await signUpWithPasskey(page, { email });
    await confirmEmail(page, email);

    // The user fails verification: the browser refuses the ceremony.
    await authenticator.setUserVerified(false);
    await signInWithPasskey(page);
    await waitForText(passkeyError(page), MESSAGE.cancelled);
    await waitForPath(page, '/signin');

    // The authenticator answers without the "user verified" flag: the server refuses.
    await authenticator.setUserVerified(true);
    await authenticator.overrideResponse({ isBadUV: true });
    await signInWithPasskey(page);
    await waitForText(passkeyError(page), MESSAGE.notVerified);
    await waitForPath(page, '/signin');

    // Still signed out.
    await open(page, '/profile', mode);
    await waitForPath(page, '/signin');
    await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Sign in');

    // With verification back, the same passkey works.
    await authenticator.overrideResponse({ isBadUV: false });
    await signInWithPasskey(page);
    await expectProfile(page, email, ['Passkey']);
    checkPage(page);
  });

  test('a password account adds, renames, uses and removes a passkey', async () => {
    const email = uniqueEmail();
    const { page } = await freshPage();
    const authenticator = await addAuthenticator(page);
    await registerWithPassword(page, { email });
    await confirmEmail(page, email);
    await signInWithPassword(page, { email, password: PASSWORD });
    await expectProfile(page, email, []);

    // Add a passkey named "Laptop".
    await page.getByLabel('Name for the new passkey').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await waitForPath(page, '/profile', '?passkey_added=1');
    await waitForText(page.locator('.notice'), 'Your passkey was added.');
    let items = await expectProfile(page, email, ['Laptop']);
    assert.match(await text(items.first().locator('p')), /^Laptop · added .+ · never used$/);
    assert.equal((await authenticator.credentials()).length, 1, 'the passkey is on the device');

    // Rename it.
    await items.first().getByLabel('New name').fill('Work laptop');
    await items.first().getByRole('button', { name: 'Rename' }).click();
    await waitForText(items.first().locator('strong'), 'Work laptop');
    await open(page, '/profile', mode);
    await expectProfile(page, email, ['Work laptop']);

    // Sign out and back in with it.
    await signOut(page);
    await signInWithPasskey(page);
    items = await expectProfile(page, email, ['Work laptop']);
    assert.match(await text(items.first().locator('p')), / · last used /);

    // Remove it: allowed, the password remains.
    await items.first().getByRole('button', { name: 'Remove' }).click();
    await waitForText(page.locator('section.passkeys'), 'No passkeys yet.');
    await open(page, '/profile', mode);
    await expectProfile(page, email, []);

    // The passkey still on the device no longer signs in; the password does.
    await signOut(page);
    await signInWithPasskey(page);
    await waitForText(passkeyError(page), MESSAGE.unknown);
    await waitForPath(page, '/signin');
    await signInWithPassword(page, { email, password: PASSWORD });
    await expectProfile(page, email, []);
    checkPage(page);
  });

  test("a passkey-only account cannot remove its only passkey", async () => {
    const email = uniqueEmail();
    const { page } = await freshPage();
    await addAuthenticator(page);
    await signUpWithPasskey(page, { email });
    await confirmEmail(page, email);
    await signInWithPasskey(page);
    const items = await expectProfile(page, email, ['Passkey']);

    // With email sign-in switched off, the passkey is the account's only way in.
    await server.cli(['settings', 'set', 'email_sign_in_enabled', 'off']);
    try {
      await items.first().getByRole('button', { name: 'Remove' }).click();
      await waitForText(page.locator('section.passkeys .form-error'), MESSAGE.onlyWay);
      await open(page, '/profile', mode);
      await expectProfile(page, email, ['Passkey']);
    } finally {
      await server.cli(['settings', 'set', 'email_sign_in_enabled', 'on']);
    }
    checkPage(page);
  });
  test('a passkey put on an address its owner never proved stops working when the owner proves it', async () => {
    // Someone registers the owner's address with their own passkey and never confirms it.
    const email = uniqueEmail();
    const { page: attacker } = await freshPage();
    await addAuthenticator(attacker);
    await signUpWithPasskey(attacker, { email, name: 'Mallory' });

    // The owner, in their own browser, signs in with a link mailed to the address.
    const { page: owner } = await freshPage();
    await open(owner, '/signin', mode);
    const section = owner.getByRole('region', { name: 'Sign in without a password' });
    await section.getByLabel('Email').fill(email);
    await section.getByRole('button', { name: 'Email me a link and code', exact: true }).click();
    await waitForPath(owner, '/signin/code');
    const mail = await sink.waitForMail({ to: email, subject: /sign-in code/ });
    await open(owner, linkIn(mail, '/signin/email'), mode);
    await owner.locator('main').getByRole('button', { name: 'Sign in', exact: true }).click();
    // What the registrant accepted does not bind the owner: they are asked for the terms.
    await answerConsentStep(owner);
    await expectProfile(owner, email, []);

    // The attacker's passkey no longer opens the account.
    await signInWithPasskey(attacker);
    await waitForText(passkeyError(attacker), MESSAGE.unknown);
    await open(attacker, '/profile', mode);
    await waitForPath(attacker, '/signin');
    checkPage(owner);
  });

  test('a passkey account is deleted: a sign-in offers to keep it, then it is erased without a trace', async () => {
    const email = uniqueEmail();
    const name = `Pia Passkeyson ${Date.now().toString(36)}`;
    const { page } = await freshPage();
    await addAuthenticator(page);
    await signUpWithPasskey(page, { email, name });
    await confirmEmail(page, email);
    await signInWithPasskey(page);
    await expectProfile(page, email, ['Passkey']);

    // Asked for from the profile, confirmed by a tick: signed out, the date mailed.
    async function askForDeletion() {
      await page.getByRole('link', { name: 'Delete your account' }).click();
      await waitForPath(page, '/profile/delete');
      await waitForText(page.locator('h1'), 'Delete your account');
      await waitForText(page.locator('section.card'), /7 days later, your account is deleted/);
      await page.getByLabel('I understand that my account and my data will be deleted').check();
      await page.getByRole('button', { name: 'Delete my account' }).click();
      await waitForPath(page, '/signin', '?deletion=scheduled');
      await waitForText(page.locator('.notice'), 'Your account will be deleted');
      const mail = await sink.waitForMail({ to: email, subject: 'Your Keyhaven account will be deleted' });
      assert.match(mail.text, /sign in and choose to keep your account/);
    }
    await askForDeletion();
    await open(page, '/profile', mode);
    await waitForPath(page, '/signin');

    // A sign-in offers to keep the account; keeping it signs in.
    await signInWithPasskey(page);
    await waitForPath(page, '/signin/deletion');
    await waitForText(page.locator('h1'), 'Your account is set to be deleted');
    await page.getByRole('button', { name: 'Keep my account and sign in' }).click();
    await waitForPath(page, '/profile', '?deletion_cancelled=1');
    await waitForText(page.locator('.notice'), 'Your account will not be deleted');
    assert.equal(await server.sql(`select count(*) from account_deletions`), '0');

    // Asked again; this time the sign-in goes on with the deletion, and nobody is signed in.
    await askForDeletion();
    await signInWithPasskey(page);
    await waitForPath(page, '/signin/deletion');
    await page.getByRole('button', { name: 'Go on with the deletion' }).click();
    await waitForPath(page, '/signin', '?deletion=kept');
    await open(page, '/profile', mode);
    await waitForPath(page, '/signin');

    // The period is over (made so by hand): the server's worker erases her within seconds.
    await server.sql(`update account_deletions set due_at = now()`);
    const last = await sink.waitForMail({ to: email, subject: 'Your Keyhaven account was deleted', timeout: 30_000 });
    assert.match(last.text, /This is the last message we send you/);
    // No text or JSON column of any table holds her address or her name (the last mail's row
    // goes once it is delivered).
    const needles = [email, name].map((n) => `'${n.replaceAll("'", "''")}'`).join(', ');
    const scan = `
      select coalesce(string_agg(c.table_name || '.' || c.column_name, ', '), '')
      from information_schema.columns c cross join unnest(array[${needles}]) as needle
      where c.table_schema = 'public' and c.table_name not like '\\_sqlx%'
        and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')
        and (xpath('/row/n/text()', query_to_xml(format(
              'select count(*) as n from %I where position(lower(%L) in lower(%I::text)) > 0',
              c.table_name, needle, c.column_name), false, true, '')))[1]::text::int > 0`;
    let found = await server.sql(scan);
    for (let i = 0; i < 50 && found !== ''; i += 1) {
      await page.waitForTimeout(200);
      found = await server.sql(scan);
    }
    assert.equal(found, '', 'columns that still hold her address or name');
    assert.equal(await server.sql(`select count(*) from passkeys p join users u on u.id = p.user_id where u.email = '${email}'`), '0');

    // Her passkey no longer signs anyone in.
    await signInWithPasskey(page);
    await waitForText(passkeyError(page), MESSAGE.unknown);
    checkPage(page);
  });
});
