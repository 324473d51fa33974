// Social sign-in in a real browser against a real, independent OpenID provider (the npm
// oidc-provider, run locally, signing its user in without a human): sign-up on first use,
// sign-in after, refusal of tampered ID tokens (wrong nonce, wrong audience) and of unverified
// addresses, linking to an existing account only after its owner signs in, and unlinking.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { open } from '../support/browser.mjs';
import { startUpstreamIdp } from '../support/upstream-idp.mjs';
import {
  server,
  uniqueEmail,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
  signInWithPassword,
  answerConsentStep,
} from '../support/journey.mjs';

let idp;
const PROVIDERS = {
  good: { id: 'upstream', name: 'Upstream ID' },
  badNonce: { id: 'tampered-nonce', name: 'Tampered Nonce' },
  badAudience: { id: 'tampered-aud', name: 'Tampered Audience' },
};

/** A fresh upstream person with a verified address (or as `overrides` say). */
function upstreamPerson(overrides = {}) {
  const person = {
    sub: `upstream-${randomBytes(6).toString('hex')}`,
    email: uniqueEmail(),
    email_verified: true,
    name: 'Sam Social',
    ...overrides,
  };
  idp.setUser(person);
  return person;
}

const mode = { javaScriptEnabled: true };

describe('social sign-in with an upstream OpenID provider', () => {
  const { freshPage, checkPage } = usePages(mode);

  before(async () => {
    const redirectUris = Object.values(PROVIDERS).map((p) => `${server.baseURL}/signin/social/${p.id}/callback`);
    idp = await startUpstreamIdp({ redirectUris });
    for (const [client, p] of Object.entries(PROVIDERS)) {
      const { clientId, clientSecret } = idp.clients[client];
      await server.cli([
        'social', 'add', '--id', p.id, '--kind', 'oidc', '--name', p.name,
        '--issuer', idp.issuer, '--client-id', clientId, '--client-secret', clientSecret,
      ]);
    }
  });

  after(async () => {
    await idp?.stop();
  });


  /** Clicks "Continue with <name>" on /signin (or `from`) and follows the provider round trip. */
  async function continueWith(page, provider, from = '/signin') {
    await open(page, from, mode);
    await page.getByRole('link', { name: `Continue with ${provider.name}`, exact: true }).click();
  }

  async function signOut(page) {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await waitForPath(page, '/');
  }

  const linked = (page) => page.getByRole('region', { name: 'Linked accounts' });

  test('the first sign-in creates the account, the next signs in to it', async () => {
    const person = upstreamPerson();
    const { page } = await freshPage();

    await continueWith(page, PROVIDERS.good, '/register');
    // A sign-up without the registration form: the terms are asked before the first sign-in.
    await answerConsentStep(page);
    await waitForPath(page, '/profile');
    await waitForText(page.locator('dl.facts'), person.email);
    await waitForText(page.locator('dl.facts .badge'), /^verified$/);
    await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Sam Social');
    await waitForText(linked(page), `Upstream ID · ${person.email}`);

    await signOut(page);
    await continueWith(page, PROVIDERS.good);
    await waitForPath(page, '/profile');
    await waitForText(page.locator('dl.facts'), person.email);

    // With email sign-in switched off, the upstream identity is this account's only way in.
    await server.cli(['settings', 'set', 'email_sign_in_enabled', 'off']);
    try {
      await open(page, '/profile', mode);
      await linked(page).getByRole('button', { name: 'Unlink Upstream ID' }).click();
      await waitForText(linked(page), 'You cannot unlink your only way to sign in.');
      await waitForText(linked(page), 'Upstream ID ·');
    } finally {
      await server.cli(['settings', 'set', 'email_sign_in_enabled', 'on']);
    }
    checkPage(page);
  });

  test('a validly signed ID token with the wrong nonce or audience is refused', async () => {
    upstreamPerson();
    for (const provider of [PROVIDERS.badNonce, PROVIDERS.badAudience]) {
      const { page } = await freshPage();
      await continueWith(page, provider);
      await waitForPath(page, '/signin', '?social_error=unverified');
      await waitForText(
        page.getByRole('alert').filter({ hasText: 'provider' }),
        "The sign-in provider's answer could not be verified, so you were not signed in.",
      );
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');
      checkPage(page);
    }
  });

  test('an address the provider has not verified creates no account', async () => {
    upstreamPerson({ email_verified: false });
    const { page } = await freshPage();
    await continueWith(page, PROVIDERS.good);
    await waitForPath(page, '/signin', '?social_error=email_unverified');
    await waitForText(page.getByRole('alert').filter({ hasText: 'provider' }), 'did not confirm your email address');
    checkPage(page);
  });

  test('an existing account is linked only after its owner signs in', async () => {
    const owner = uniqueEmail();
    const intruder = uniqueEmail();
    for (const email of [owner, intruder]) {
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      await page.context().close();
    }
    upstreamPerson({ email: owner });

    const { page } = await freshPage();
    await continueWith(page, PROVIDERS.good);
    await waitForPath(page, '/signin', '?link=pending');
    await waitForText(
      page.getByRole('status'),
      `An account with ${owner} already exists. Sign in to it any other way to link your Upstream ID account.`,
    );
    await open(page, '/profile', mode);
    await waitForPath(page, '/signin');

    // Signing in to another account does not take the identity.
    await signInWithPassword(page, intruder, mode);
    await waitForText(linked(page), 'No linked accounts.');
    assert.equal(await linked(page).getByRole('button', { name: 'Link Upstream ID' }).count(), 0);
    const forced = await page.evaluate(async () => {
      const res = await fetch('/api/identities/confirm', { method: 'POST', headers: { Accept: 'application/json' } });
      return { status: res.status, body: await res.json() };
    });
    assert.deepEqual(forced, {
      status: 400,
      body: { Refused: "Sign in to the account that uses the provider's email address to link it." },
    });
    await open(page, '/profile', mode);
    await waitForText(linked(page), 'No linked accounts.');
    // Signing out forgets the waiting identity.
    await signOut(page);
    await signInWithPassword(page, owner, mode);
    await waitForText(linked(page), 'No linked accounts.');
    assert.equal(await linked(page).getByRole('button', { name: 'Link Upstream ID' }).count(), 0);
    await signOut(page);

    // The person comes back through the provider and signs in as the owner, then confirms.
    await continueWith(page, PROVIDERS.good);
    await waitForPath(page, '/signin', '?link=pending');
    await signInWithPassword(page, owner, mode);
    await waitForText(linked(page), `Link your Upstream ID account (${owner}) to this account?`);
    await linked(page).getByRole('button', { name: 'Link Upstream ID' }).click();
    await waitForPath(page, '/profile', '?linked=1');
    await waitForText(linked(page), `Upstream ID · ${owner}`);
    await signOut(page);

    // Now the upstream identity signs in to the owner's account.
    await continueWith(page, PROVIDERS.good);
    await waitForPath(page, '/profile');
    await waitForText(page.locator('dl.facts'), owner);

    // The owner has a password, so unlinking is allowed.
    await linked(page).getByRole('button', { name: 'Unlink Upstream ID' }).click();
    await waitForText(linked(page), 'No linked accounts.');
    checkPage(page);
  });
});

describe('social sign-in with a provider that keeps scope claims for userinfo (stock oidc-provider)', () => {
  const { freshPage, checkPage } = usePages(mode);
  const PROVIDER = { id: 'conformant', name: 'Conformant ID' };
  let conformant;

  before(async () => {
    conformant = await startUpstreamIdp({
      redirectUris: [`${server.baseURL}/signin/social/${PROVIDER.id}/callback`],
      conformant: true,
    });
    const { clientId, clientSecret } = conformant.clients.good;
    await server.cli([
      'social', 'add', '--id', PROVIDER.id, '--kind', 'oidc', '--name', PROVIDER.name,
      '--issuer', conformant.issuer, '--client-id', clientId, '--client-secret', clientSecret,
    ]);
  });

  after(async () => {
    await conformant?.stop();
  });

  test('the first sign-in reads the address and name from userinfo', async () => {
    const person = {
      sub: `conformant-${randomBytes(6).toString('hex')}`,
      email: uniqueEmail(),
      email_verified: true,
      name: 'Una Userinfo',
    };
    conformant.setUser(person);
    const { page } = await freshPage();
    await open(page, '/register', mode);
    await page.getByRole('link', { name: `Continue with ${PROVIDER.name}`, exact: true }).click();
    await answerConsentStep(page);
    await waitForPath(page, '/profile');
    await waitForText(page.locator('dl.facts'), person.email);
    await waitForText(page.locator('dl.facts .badge'), /^verified$/);
    await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Una Userinfo');
    checkPage(page);
  });
});
