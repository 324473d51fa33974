// The built-in OpenID provider driven by an independent, certified relying party (npm
// openid-client v6) with Chromium signing the person in: discovery, authorization code with
// PKCE, ID token validation, userinfo, single sign-on across two partner apps, prompt=none and
// max_age, RP-initiated logout, back-channel logout tokens (checked with jose) received by the
// apps, refresh (rotation and reuse detection), revocation, introspection, client_credentials,
// private_key_jwt, pushed authorization requests, DPoP, consent for a third-party app, new terms
// asked inside an app's sign-in, and errors that must not redirect. Run with JavaScript on
// (hydrated sign-in form) and off (plain posts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, exportJWK, jwtVerify } from 'jose';
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  PASSWORD,
} from '../support/journey.mjs';

/**
 * Partner apps on their own port: the callback is a page that just says "back at the app";
 * POST /backchannel/<name> is an app's back-channel logout endpoint, which keeps each logout
 * token it receives.
 */
let app;
before(async () => {
  const logoutTokens = [];
  const http = createServer((req, res) => {
    if (req.method === 'POST' && req.url.startsWith('/backchannel/')) {
      let body = '';
      req.on('data', (chunk) => { body += chunk; });
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token');
        logoutTokens.push({ app: req.url.slice('/backchannel/'.length), token });
        res.writeHead(200, { 'cache-control': 'no-store' });
        res.end();
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>Partner app</title><h1>Back at the partner app</h1>');
  });
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://localhost:${http.address().port}`;
  app = {
    http,
    callback: `${base}/callback`,
    signedOut: `${base}/signed-out`,
    backchannel: (name) => `${base}/backchannel/${name}`,
    /** Waits (up to 15 s) for the logout token posted to app `name`. */
    async logoutToken(name) {
      for (let i = 0; i < 150; i += 1) {
        const found = logoutTokens.find((t) => t.app === name);
        if (found) return found.token;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no logout token reached ${name}`);
    },
  };
});

after(async () => {
  await new Promise((r) => app?.http.close(r));
});

/** Registers a client with the `server client create` command; returns openid-client's config. */
async function registerClient({ firstParty, name = 'Partner Shop', backchannel }) {
  const args = [
    'client', 'create', '--name', name, '--redirect-uri', app.callback,
    '--post-logout-redirect-uri', app.signedOut, '--json',
  ];
  if (firstParty) args.push('--first-party');
  if (backchannel) args.push('--backchannel-logout-uri', app.backchannel(backchannel));
  const { client_id: clientId, client_secret: clientSecret } = JSON.parse(await server.cli(args));
  const config = await oidc.discovery(new URL(server.baseURL), clientId, clientSecret, undefined, {
    execute: [oidc.allowInsecureRequests],
  });
  return { clientId, config };
}

/** A fresh authorization request: its URL and the values the callback is checked against. */
async function authorizationRequest(config, scope = 'openid email profile', extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const checks = { pkceCodeVerifier: verifier, expectedNonce: oidc.randomNonce(), expectedState: oidc.randomState() };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: app.callback,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce: checks.expectedNonce,
    state: checks.expectedState,
    ...extra,
  });
  return { url, checks };
}

/** Waits until the browser is back at the partner app; returns the callback URL. */
async function backAtApp(page) {
  await page.waitForURL((url) => url.href.startsWith(app.callback));
  return new URL(page.url());
}

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    /** Opens the app's authorization `url`; the provider asks for a sign-in, given here. */
    async function signInAtProvider(page, url, email) {
      await page.goto(url.href);
      await waitForPath(page, '/signin');
      if (javaScriptEnabled) await open(page, '/signin', mode);
      await page.locator('#email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    }

    test('openid-client signs a person in with code + PKCE and reads userinfo', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { config } = await registerClient({ firstParty: true });
      const { url, checks } = await authorizationRequest(config);

      // Not signed in: the provider asks for a sign-in, then goes back to the app.
      await signInAtProvider(page, url, email);
      const callback = await backAtApp(page);
      assert.equal(callback.searchParams.get('iss'), server.baseURL);

      const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
      const claims = tokens.claims();
      assert.equal(claims.email, email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.name, 'Ada Lovelace');
      assert.equal(claims.iss, server.baseURL);
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(userinfo.email, email);

      // Signed in now: the next request goes straight back (single sign-on).
      const again = await authorizationRequest(config);
      await page.goto(again.url.href);
      const second = await backAtApp(page);
      const more = await oidc.authorizationCodeGrant(config, second, again.checks);
      assert.equal(more.claims().sub, claims.sub);

      // The code cannot be used twice.
      await assert.rejects(oidc.authorizationCodeGrant(config, second, again.checks), (e) => {
        assert.equal(e.error, 'invalid_grant');
        return true;
      });

      // RP-initiated logout with the ID token as hint: signed out, back at the app with state.
      const bye = oidc.buildEndSessionUrl(config, {
        id_token_hint: more.id_token,
        post_logout_redirect_uri: app.signedOut,
        state: 'bye-1',
      });
      await page.goto(bye.href);
      await page.waitForURL((u) => u.href === `${app.signedOut}?state=bye-1`);
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');
      checkPage(page);
    });

    test('two partner apps share one sign-in; logging out of one ends both by back-channel', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const shop = await registerClient({ firstParty: true, name: 'Partner Shop', backchannel: `shop-${javaScriptEnabled}` });
      const forum = await registerClient({ firstParty: true, name: 'Partner Forum', backchannel: `forum-${javaScriptEnabled}` });

      // prompt=none with no sign-in yet: the app hears login_required, no page is shown.
      const early = await authorizationRequest(forum.config, 'openid email', { prompt: 'none' });
      await page.goto(early.url.href);
      await assert.rejects(
        oidc.authorizationCodeGrant(forum.config, await backAtApp(page), early.checks),
        (e) => e.error === 'login_required',
      );

      // Signing in to the shop with a password...
      const atShop = await authorizationRequest(shop.config);
      await signInAtProvider(page, atShop.url, email);
      const shopTokens = await oidc.authorizationCodeGrant(shop.config, await backAtApp(page), atShop.checks);
      // ...signs in to the forum too: prompt=none succeeds, no password asked.
      const atForum = await authorizationRequest(forum.config, 'openid email', { prompt: 'none' });
      await page.goto(atForum.url.href);
      const forumTokens = await oidc.authorizationCodeGrant(forum.config, await backAtApp(page), atForum.checks);
      const { sid, sub } = shopTokens.claims();
      assert.ok(sid, 'ID tokens name the sign-in');
      assert.equal(forumTokens.claims().sid, sid);
      assert.equal(forumTokens.claims().sub, sub);

      // max_age=0 asks for a fresh sign-in even so; it is the same sign-in afterwards.
      await new Promise((r) => setTimeout(r, 1100));
      const fresh = await authorizationRequest(forum.config, 'openid email', { max_age: '0' });
      await signInAtProvider(page, fresh.url, email);
      const freshTokens = await oidc.authorizationCodeGrant(forum.config, await backAtApp(page), {
        ...fresh.checks,
        maxAge: 0,
      });
      assert.ok(freshTokens.claims().auth_time > shopTokens.claims().auth_time);
      assert.equal(freshTokens.claims().sid, sid);

      // Logging out at the shop (RP-initiated) ends the sign-in: both apps get a logout token.
      const bye = oidc.buildEndSessionUrl(shop.config, {
        id_token_hint: shopTokens.id_token,
        post_logout_redirect_uri: app.signedOut,
      });
      await page.goto(bye.href);
      await page.waitForURL((u) => u.href.startsWith(app.signedOut));
      const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', server.baseURL));
      for (const [name, clientId] of [[`forum-${javaScriptEnabled}`, forum.clientId], [`shop-${javaScriptEnabled}`, shop.clientId]]) {
        const token = await app.logoutToken(name);
        const { payload, protectedHeader } = await jwtVerify(token, jwks, {
          issuer: server.baseURL,
          audience: clientId,
          typ: 'logout+jwt',
          maxTokenAge: '2 minutes',
        });
        assert.equal(protectedHeader.alg, 'RS256');
        assert.equal(payload.sid, sid);
        assert.equal(payload.sub, sub);
        assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
        assert.equal(payload.nonce, undefined);
      }

      // The forum's silent check now finds nobody signed in.
      const after = await authorizationRequest(forum.config, 'openid email', { prompt: 'none' });
      await page.goto(after.url.href);
      await assert.rejects(
        oidc.authorizationCodeGrant(forum.config, await backAtApp(page), after.checks),
        (e) => e.error === 'login_required',
      );
      checkPage(page);
    });

    test('refresh with rotation and reuse detection, revocation, introspection', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { config } = await registerClient({ firstParty: true });
      const { url, checks } = await authorizationRequest(config, 'openid email offline_access');
      await signInAtProvider(page, url, email);
      const first = await oidc.authorizationCodeGrant(config, await backAtApp(page), checks);
      assert.ok(first.refresh_token);

      const second = await oidc.refreshTokenGrant(config, first.refresh_token);
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.equal(second.claims().email, email);
      const active = await oidc.tokenIntrospection(config, second.access_token);
      assert.equal(active.active, true);
      assert.equal(active.scope, 'email offline_access openid');

      // Using the old refresh token again revokes the whole family.
      await assert.rejects(oidc.refreshTokenGrant(config, first.refresh_token), (e) => e.error === 'invalid_grant');
      await assert.rejects(oidc.refreshTokenGrant(config, second.refresh_token), (e) => e.error === 'invalid_grant');

      // Revoking the access token ends it at once.
      await oidc.tokenRevocation(config, second.access_token);
      assert.equal((await oidc.tokenIntrospection(config, second.access_token)).active, false);
      await assert.rejects(oidc.fetchUserInfo(config, second.access_token, first.claims().sub));
      checkPage(page);
    });

    test('acr_values asking for multi-factor steps a one-factor sign-in up', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { config } = await registerClient({ firstParty: true, name: 'Partner Bank' });

      // A password alone: one factor, and the ID token says so.
      const plain = await authorizationRequest(config);
      await signInAtProvider(page, plain.url, email);
      const first = (await oidc.authorizationCodeGrant(config, await backAtApp(page), plain.checks)).claims();
      assert.deepEqual(first.amr, ['pwd']);
      assert.equal(first.acr, 'https://refeds.org/profile/sfa');

      // The app asks for multi-factor: the provider asks for a second factor, then goes back.
      const strong = await authorizationRequest(config, 'openid email', {
        acr_values: 'https://refeds.org/profile/mfa',
      });
      await page.goto(strong.url.href);
      await waitForPath(page, '/signin/second-factor');
      if (javaScriptEnabled) await open(page, '/signin/second-factor', mode);
      await page.getByRole('button', { name: 'Email me a code', exact: true }).click();
      await waitForPath(page, '/signin/second-factor', '?email_sent=1');
      const mail = await sink.waitForMail({ to: email, subject: /confirmation code/ });
      await page.locator('#email-code').fill(codeIn(mail));
      await page.getByRole('button', { name: 'Confirm', exact: true }).click();
      const tokens = await oidc.authorizationCodeGrant(config, await backAtApp(page), strong.checks);
      const claims = tokens.claims();
      assert.equal(claims.acr, 'https://refeds.org/profile/mfa');
      assert.ok(claims.amr.includes('otp') && claims.amr.includes('mfa'), JSON.stringify(claims.amr));
      assert.equal(claims.sid, first.sid, 'the step-up kept the sign-in');
    });

    test('a third-party app asks for consent once', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { config } = await registerClient({ firstParty: false });

      const { url, checks } = await authorizationRequest(config);
      await signInAtProvider(page, url, email);
      await waitForPath(page, '/oauth2/consent');
      await waitForText(page.locator('h1'), 'Allow Partner Shop to use your account?');
      await waitForText(page.locator('ul.permissions'), 'See your email address');
      await page.getByRole('button', { name: 'Allow', exact: true }).click();
      const tokens = await oidc.authorizationCodeGrant(config, await backAtApp(page), checks);
      assert.equal(tokens.claims().email, email);

      const again = await authorizationRequest(config);
      await page.goto(again.url.href);
      await backAtApp(page);
      checkPage(page);
    });

    test('a service client gets tokens with client_credentials', async () => {
      const out = await server.cli([
        'client', 'create', '--name', 'Nightly batch', '--service', '--scope', 'orders.read', '--json',
      ]);
      const { client_id: clientId, client_secret: clientSecret } = JSON.parse(out);
      const config = await oidc.discovery(new URL(server.baseURL), clientId, clientSecret, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'orders.read' });
      assert.equal(tokens.scope, 'orders.read');
      const info = await oidc.tokenIntrospection(config, tokens.access_token);
      assert.equal(info.sub, clientId);
      await assert.rejects(oidc.clientCredentialsGrant(config, { scope: 'orders.write' }), (e) => e.error === 'invalid_scope');
    });

    test('a pushed authorization request (PAR) signs the person in', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { config } = await registerClient({ firstParty: true });
      const verifier = oidc.randomPKCECodeVerifier();
      const checks = { pkceCodeVerifier: verifier, expectedState: oidc.randomState() };
      const url = await oidc.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: app.callback,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: checks.expectedState,
      });
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      await signInAtProvider(page, url, email);
      const tokens = await oidc.authorizationCodeGrant(config, await backAtApp(page), checks);
      assert.equal(tokens.claims().email, email);
      checkPage(page);
    });

    test("DPoP binds the tokens to the app's key", async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { config } = await registerClient({ firstParty: true });
      const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      const { url, checks } = await authorizationRequest(config, 'openid email offline_access');
      await signInAtProvider(page, url, email);
      const tokens = await oidc.authorizationCodeGrant(config, await backAtApp(page), checks, undefined, { DPoP });
      assert.equal(tokens.token_type, 'dpop');
      const { sub } = tokens.claims();
      const info = await oidc.fetchUserInfo(config, tokens.access_token, sub, { DPoP });
      assert.equal(info.email, email);
      // Without the key the token is worth nothing, and so is the refresh token.
      await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, sub));
      await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_dpop_proof');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
      assert.equal(refreshed.token_type, 'dpop');
      checkPage(page);
    });

    test('a service client authenticates with private_key_jwt', async () => {
      const es256 = () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const { publicKey, privateKey } = await es256();
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      const file = join(tmpdir(), `jwks-${randomUUID()}.json`);
      await writeFile(file, JSON.stringify({ keys: [jwk] }));
      const out = await server.cli([
        'client', 'create', '--name', 'Ledger sync', '--service', '--scope', 'ledger.read', '--jwks-file', file, '--json',
      ]);
      await rm(file);
      const { client_id: clientId, client_secret: clientSecret } = JSON.parse(out);
      assert.equal(clientSecret, null, 'a key-holding client gets no secret');
      const config = await oidc.discovery(new URL(server.baseURL), clientId, {}, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k1' }), {
        execute: [oidc.allowInsecureRequests],
      });
      const tokens = await oidc.clientCredentialsGrant(config, { scope: 'ledger.read' });
      assert.equal(tokens.scope, 'ledger.read');
      const info = await oidc.tokenIntrospection(config, tokens.access_token);
      assert.equal(info.active, true);
      assert.equal(info.client_id, clientId);

      // Another key pair signing for the same client is refused.
      const { privateKey: stranger } = await es256();
      const forged = await oidc.discovery(new URL(server.baseURL), clientId, {}, oidc.PrivateKeyJwt({ key: stranger, kid: 'k1' }), {
        execute: [oidc.allowInsecureRequests],
      });
      // 401 invalid_client (openid-client reports it as the WWW-Authenticate challenge).
      await assert.rejects(oidc.clientCredentialsGrant(forged, { scope: 'ledger.read' }), (e) => e.status === 401);
    });

    test("new terms are asked inside an app's sign-in, before the app gets its code", async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      await server.cli(['consent', 'publish', 'terms', '--text', `Revised terms ${randomUUID()}.`]);
      const { config } = await registerClient({ firstParty: true });
      const { url, checks } = await authorizationRequest(config);

      await signInAtProvider(page, url, email);
      await waitForPath(page, '/signin/consent');
      await waitForText(page.locator('main'), 'Our terms have changed since you last accepted them.');
      // The app is not answered while the question is open.
      assert.ok(!page.url().startsWith(app.callback));
      await page.getByLabel('I accept the Terms of service (required)').check();
      await page.getByRole('button', { name: 'Accept and continue', exact: true }).click();

      const callback = await backAtApp(page);
      const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
      assert.equal(tokens.claims().email, email);
      checkPage(page);
    });

    test('an unregistered redirect URI stops at our error page', async () => {
      const { clientId } = await registerClient({ firstParty: true });
      const { page } = await freshPage();
      const url = new URL('/oauth2/authorize', server.baseURL);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: 'https://evil.example/callback',
        scope: 'openid',
      }).toString();
      await open(page, url.href, mode);
      await waitForPath(page, '/oauth2/error');
      await waitForText(page.getByRole('alert'), 'has not registered');
      checkPage(page);
    });
  });
}
