// The admin console in a real browser: a staff member searches for a customer and opens their
// page, locks and unlocks the account (the customer's session ends at once), runs a breach
// response on two customers, registers an app that openid-client then signs a person in
// through, changes that app's brand (live preview, logo upload) and meets it on the app's
// sign-in page and in its mail, filters the audit trail and exports it, and `audit verify`
// finds a row changed by hand in the database; customers imported from a file, a dry run first. Search, lock and unlock run with JavaScript on (hydrated
// forms) and off (plain posts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

import { open } from '../support/browser.mjs';
import { Authenticator } from '../support/authenticator.mjs';
import {
  server,
  sink,
  acceptRequired,
  uniqueEmail,
  text,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
  signInWithPassword,
  PASSWORD,
} from '../support/journey.mjs';

/** A partner app on its own port: its callback page says "back at the partner app". */
let partner;
before(async () => {
  const http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Partner app</title><h1>Back at the partner app</h1>');
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  partner = { http, callback: `http://localhost:${http.address().port}/callback` };
});
after(async () => {
  await new Promise((r) => partner?.http.close(r));
});

/** A staff member in `role`, signed in on a fresh page with an authenticator app set up. */
async function staffPage(freshPage, role, mode) {
  const email = uniqueEmail();
  const out = await server.cli(['admin', 'create', '--email', email, '--role', role]);
  const link = out.match(/https?:\/\/\S+/)[0];
  const { page } = await freshPage();
  await open(page, link, mode);
  await page.getByLabel('New password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Set new password', exact: true }).click();
  await waitForPath(page, '/signin/second-factor');
  if (mode.javaScriptEnabled) await open(page, '/signin/second-factor', mode);
  const app = new Authenticator(await text(page.locator('[data-totp-key]')));
  await page.locator('#code').fill(app.code());
  await page.getByRole('button', { name: 'Confirm and go on', exact: true }).click();
  await waitForPath(page, '/profile/recovery-codes');
  return { page, email };
}

/** A confirmed customer signed in on a fresh page. */
async function customerPage(freshPage, mode) {
  const email = uniqueEmail();
  const { page } = await freshPage();
  await registerConfirmed(page, email, mode);
  await signInWithPassword(page, email, mode);
  return { page, email };
}

/** Submits the customer page's form for `action` with a reason and the box ticked. */
async function act(page, action, label) {
  const form = page.locator(`form[data-action="${action}"]`);
  await form.getByLabel('Reason').fill('ticket 4711');
  await form.getByLabel('I confirm').check();
  await form.getByRole('button', { name: label, exact: true }).click();
}

/** Registers a first-party app named `name` from the console's apps page. */
async function registerApp(page, name) {
  await open(page, '/admin/apps', { javaScriptEnabled: true });
  const form = page.locator('#create-app');
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('Redirect URIs (one per line)').fill(partner.callback);
  await form.getByLabel('First-party (no consent screen)').check();
  await form.getByLabel('I confirm').check();
  await form.getByRole('button', { name: 'Register', exact: true }).click();
  const clientId = await text(page.locator('#new-client-id'));
  const clientSecret = await text(page.locator('#new-client-secret'));
  await waitForText(page.locator('#apps'), name);
  return { clientId, clientSecret };
}

/** openid-client's authorization request for the app, with the checks its answer needs. */
async function signInRequest(clientId, clientSecret) {
  const config = await oidc.discovery(new URL(server.baseURL), clientId, clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier: verifier, expectedNonce: oidc.randomNonce(), expectedState: oidc.randomState() };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: partner.callback,
    scope: 'openid email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce: checks.expectedNonce,
    state: checks.expectedState,
  });
  return { config, checks, url };
}

/** A 2×2 red PNG. */
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==',
  'base64',
);

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    test('search for a customer, open their page, lock and unlock', async () => {
      const customer = await customerPage(freshPage, mode);
      const { page } = await staffPage(freshPage, 'admin', mode);

      await open(page, '/admin/customers', mode);
      await page.getByLabel('Email, name, phone (+…) or id').fill(customer.email.slice(3, 14));
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await waitForPath(page, '/admin/customers');
      const link = page.locator('#customers a', { hasText: customer.email });
      await waitForText(link, customer.email);
      await link.click();
      await waitForText(page.locator('#customer-email'), customer.email);
      await waitForText(page.locator('#customer-state'), 'Active');

      await act(page, 'lock', 'Lock the account');
      await waitForText(page.locator('#customer-state'), /Locked/);
      // The customer's session ended at once.
      await open(customer.page, '/profile', mode);
      await waitForPath(customer.page, '/signin');
      await customer.page.locator('#email').fill(customer.email);
      await customer.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await customer.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitForText(customer.page.locator('.form-error'), /locked/);

      await act(page, 'unlock', 'Unlock');
      await waitForText(page.locator('#customer-state'), 'Active');
      await signInWithPassword(customer.page, customer.email, mode);
      checkPage(page);
    });

    test('import customers from a file: a dry run first, then the import, with its report', async () => {
      const { page } = await staffPage(freshPage, 'admin', mode);
      const [first, second] = [uniqueEmail(), uniqueEmail()];
      const csv =
        'email,display_name,email_verified\n' +
        `${first},Imported One,true\n` +
        'not an address,Someone,true\n' +
        `${second},Imported Two,false\n` +
        `${first.toUpperCase()},Twice,true\n`;
      const upload = async (mode, button) => {
        await open(page, '/admin/import', mode);
        await page.locator('#import-file').setInputFiles({
          name: 'people.csv',
          mimeType: 'text/csv',
          buffer: Buffer.from(csv),
        });
        await page.locator(button).check();
        await page.getByLabel('I confirm').check();
        await page.getByRole('button', { name: 'Upload', exact: true }).click();
        await waitForPath(page, '/admin/import');
      };

      await upload(mode, '#import-dry');
      await waitForText(
        page.locator('#import-progress'),
        'Dry run finished: 2 of 4 rows would be imported, 2 skipped.',
      );
      const skipped = await text(page.locator('#import-skipped'));
      assert.match(skipped, /3 email:/);
      assert.match(skipped, /5 .* appears on line 2 already/);

      await upload(mode, '#import-real');
      await waitForText(
        page.locator('#import-progress'),
        'Import finished: 2 of 4 rows imported, 2 skipped.',
      );
      await open(page, '/admin/customers', mode);
      await page.getByLabel('Email, name, phone (+…) or id').fill(second);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await waitForText(page.locator('#customers'), second);
      checkPage(page);
    });
  });
}

describe('with JavaScript on', () => {
  const mode = { javaScriptEnabled: true };
  const { freshPage, checkPage } = usePages(mode);

  test('a breach response on two customers ends their sessions and demands a reset', async () => {
    const first = await customerPage(freshPage, mode);
    const second = await customerPage(freshPage, mode);
    const bystander = await customerPage(freshPage, mode);
    const { page } = await staffPage(freshPage, 'admin', mode);
    await open(page, '/admin/breach', mode);
    const preview = page.locator('#breach-preview');
    await preview.getByLabel('Customers', { exact: true }).fill(`${first.email}\n${second.email}`);
    await preview.getByRole('button', { name: 'Preview', exact: true }).click();
    await waitForText(page.locator('#breach-count'), 'This touches 2 customer(s).');

    const start = page.locator('#breach-start');
    await start.getByLabel('Customers', { exact: true }).fill(`${first.email}, ${second.email}`);
    await start.getByLabel('The notice mailed to each customer').fill('Our old forum was breached.');
    await start.getByLabel('Reason').fill('incident 12');
    await start.getByLabel('I confirm').check();
    await start.getByRole('button', { name: 'Start the breach response', exact: true }).click();
    await waitForText(page.locator('#breach-progress'), 'Finished: 2 of 2 customers', 20_000);

    for (const customer of [first, second]) {
      await open(customer.page, '/profile', mode);
      await waitForPath(customer.page, '/signin');
      const mail = await sink.waitForMail({ to: customer.email, subject: /Important: secure your/ });
      assert.match(mail.text, /Our old forum was breached\./);
      await customer.page.locator('#email').fill(customer.email);
      await customer.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await customer.page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await waitForText(customer.page.locator('.form-error'), /Forgot password/);
    }
    await open(bystander.page, '/profile', mode);
    await waitForPath(bystander.page, '/profile');
    checkPage(page);
  });

  test('an app registered in the console signs a person in through openid-client', async () => {
    const customer = await customerPage(freshPage, mode);
    const { page } = await staffPage(freshPage, 'admin', mode);
    const { clientId, clientSecret } = await registerApp(page, 'Console Shop');
    const { config, checks, url } = await signInRequest(clientId, clientSecret);
    await customer.page.goto(url.href);
    await customer.page.waitForURL((u) => u.href.startsWith(partner.callback));
    const tokens = await oidc.authorizationCodeGrant(config, new URL(customer.page.url()), checks);
    assert.equal(tokens.claims().email, customer.email);

    // The console counts the sign-in.
    await open(page, '/admin/apps', mode);
    await waitForText(page.locator(`tr[data-client-id="${clientId}"]`), /1 code\(s\) today/);
    checkPage(page);
  });

  test('change an app\'s brand and see it on its sign-in page and in its mail', async () => {
    const { page } = await staffPage(freshPage, 'admin', mode);
    const { clientId, clientSecret } = await registerApp(page, 'Acme Travel app');
    await open(page, '/admin/branding', mode);
    await page.locator('#brand-app').selectOption(clientId);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await waitForText(page.locator('#brand-title'), 'The brand of Acme Travel app');

    const form = page.locator('#brand-form');
    await form.getByLabel('Product name').fill('Acme Travel');
    await form.getByLabel('Primary colour').fill('#aa0000');
    await form.getByLabel('Sign-in heading').fill('Welcome aboard Acme Travel');
    await form.getByLabel('Sender name').fill('Acme Travel');
    await form.getByLabel('Closing under every message').fill('Acme Travel, 1 Harbour Road');
    // The preview beside the form follows the form before anything is saved.
    const preview = page.frameLocator('#brand-preview');
    await waitForText(preview.locator('h1'), 'Welcome aboard Acme Travel');
    await waitForText(preview.locator('.brand span'), 'Acme Travel');
    await form.getByLabel('I confirm').check();
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page.locator('.notice'), /change\(s\) saved/);

    const upload = page.locator('#brand-logo-form');
    await upload.locator('input[type=file]').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: LOGO });
    await upload.getByLabel('I confirm').check();
    await upload.getByRole('button', { name: 'Upload', exact: true }).click();
    await waitForText(page.locator('[role=status]').last(), 'The logo is saved.');

    // A person the app sends to sign in meets the app's brand.
    const { page: person } = await freshPage();
    const { url } = await signInRequest(clientId, clientSecret);
    await person.goto(url.href);
    await waitForPath(person, '/signin');
    await waitForText(person.locator('h1'), 'Welcome aboard Acme Travel');
    await waitForText(person.locator('.brand span'), 'Acme Travel');
    // Its primary colour reaches the buttons through the brand's stylesheet.
    await person.waitForFunction(() =>
      [...document.querySelectorAll('button')].some(
        (b) => b.textContent.trim() === 'Sign in' && getComputedStyle(b).backgroundColor === 'rgb(170, 0, 0)',
      ),
    );
    const logo = person.locator('.brand img');
    assert.match(await logo.getAttribute('src'), /^\/brand\/[0-9a-f-]+\/logo\?v=\d+$/);
    await person.waitForFunction(() => document.querySelector('.brand img').naturalWidth === 2);

    // Registering from there: the mail wears the app's brand.
    await person.getByRole('link', { name: 'Create account' }).first().click();
    await waitForPath(person, '/register');
    const email = uniqueEmail();
    await person.locator('#email').fill(email);
    await person.locator('#display_name').fill('Grace Hopper');
    await person.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await waitForText(person.locator('.strength'), /\S/);
    await acceptRequired(person);
    await person.getByRole('button', { name: 'Create account', exact: true }).click();
    await waitForPath(person, '/register/sent');
    const mail = await sink.waitForMail({ to: email, subject: 'Confirm your email address for Acme Travel' });
    assert.match(mail.from, /Acme Travel/);
    assert.match(mail.text, /Acme Travel, 1 Harbour Road/);

    // Anyone else still meets the default brand.
    const { page: other } = await freshPage();
    await open(other, '/signin', mode);
    await waitForText(other.locator('h1'), 'Sign in');
    await waitForText(other.locator('.brand span'), 'Keyhaven');
    checkPage(page);
  });

  test('filter the audit trail, export it, and find a row changed by hand', async () => {
    const customer = await customerPage(freshPage, mode);
    const { page } = await staffPage(freshPage, 'auditor', mode);
    await open(page, '/admin/audit', mode);
    await page.getByLabel('Customer (address or id)').fill(customer.email);
    await page.getByLabel('Action (signin.failed, or signin.)').fill('signin.');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await waitForPath(page, '/admin/audit');
    await waitForText(page.locator('#audit tbody tr').first(), /signin\.succeeded/);
    const rows = await page.locator('#audit tbody tr').allInnerTexts();
    assert.ok(rows.every((r) => /signin\./.test(r)), rows.join('\n'));

    const href = await page.locator('#export-csv').getAttribute('href');
    const res = await page.request.get(href);
    assert.equal(res.status(), 200);
    const csv = await res.text();
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'id,at,actor,subject,action,outcome,ip,user_agent,detail');
    assert.equal(lines.length - 1, rows.length, csv);
    assert.ok(lines.slice(1).every((l) => l.includes(customer.email)));
    const exported = await server.sql("select count(*) from audit_events where action = 'audit.exported'");
    assert.equal(exported, '1');

    // Someone with the database's keys changes a sealed row: verify names it.
    await server.cli(['audit', 'seal']);
    const id = await server.sql(
      `select min(e.id) from audit_events e join users u on u.id = e.subject_id where u.email = '${customer.email}'`,
    );
    await server.sql(
      `begin; set local session_replication_role = replica; update audit_events set outcome = 'failure' where id = ${id}; commit;`,
    );
    const failure = await server.cli(['audit', 'verify']).then(() => null, (e) => e);
    assert.ok(failure, 'verify fails');
    assert.match(`${failure.stderr}`, new RegExp(`broken at row ${id}\\b`));
    checkPage(page);
  });
});
