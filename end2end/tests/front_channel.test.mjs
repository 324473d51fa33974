// Front-channel logout (OpenID Connect Front-Channel Logout 1.0) from the portal's own "Sign
// out": a partner app registered with a front-channel logout page has it loaded, with `iss` and
// the sign-in's `sid`, in a hidden frame the page's Content Security Policy allows, and the
// browser goes on home. Run with JavaScript on (the hydrated form) and off (a plain post).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import * as oidc from 'openid-client';

import { open } from '../support/browser.mjs';
import {
  server,
  uniqueEmail,
  waitForText,
  waitForPath,
  usePages,
  registerConfirmed,
  PASSWORD,
} from '../support/journey.mjs';

/**
 * A partner app on its own port: the callback says "back at the app"; GET /frontchannel is its
 * front-channel logout page, which keeps the query of each load.
 */
let app;
before(async () => {
  const loads = [];
  const http = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/frontchannel') {
      loads.push(Object.fromEntries(url.searchParams));
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-cache, no-store' });
      res.end('<!doctype html><title>Signed out of the app</title>');
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
    frontchannel: `${base}/frontchannel`,
    /** Waits (up to 10 s) for a load of the front-channel page naming `sid`. */
    async loadFor(sid) {
      for (let i = 0; i < 100; i += 1) {
        const found = loads.find((l) => l.sid === sid);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`the front-channel page was not loaded for ${sid}`);
    },
  };
});

after(async () => {
  await new Promise((r) => app?.http.close(r));
});

for (const javaScriptEnabled of [true, false]) {
  const mode = { javaScriptEnabled };

  describe(`with JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    const { freshPage, checkPage } = usePages(mode);

    test('signing out in the portal loads the app\'s front-channel logout page', async () => {
      const email = uniqueEmail();
      const { page } = await freshPage();
      await registerConfirmed(page, email, mode);
      const { client_id: clientId, client_secret: clientSecret } = JSON.parse(await server.cli([
        'client', 'create', '--name', 'Partner Forum', '--first-party',
        '--redirect-uri', app.callback, '--frontchannel-logout-uri', app.frontchannel, '--json',
      ]));
      const config = await oidc.discovery(new URL(server.baseURL), clientId, clientSecret, undefined, {
        execute: [oidc.allowInsecureRequests],
      });

      // Signed in to the app through the portal.
      const verifier = oidc.randomPKCECodeVerifier();
      const checks = { pkceCodeVerifier: verifier, expectedNonce: oidc.randomNonce(), expectedState: oidc.randomState() };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: app.callback,
        scope: 'openid email',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        nonce: checks.expectedNonce,
        state: checks.expectedState,
      });
      await page.goto(url.href);
      await waitForPath(page, '/signin');
      if (javaScriptEnabled) await open(page, '/signin', mode);
      await page.locator('#email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL((u) => u.href.startsWith(app.callback));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), checks);
      const { sid } = tokens.claims();
      assert.ok(sid, 'the ID token names the sign-in');

      // "Sign out" in the portal: the app's page is loaded with the issuer and the sign-in...
      await open(page, '/profile', mode);
      const visited = [];
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) visited.push(frame.url());
      });
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      const load = await app.loadFor(sid);
      assert.equal(load.iss, server.baseURL);
      // ...and the browser goes on home, signed out, never having shown the sid in its address.
      await waitForPath(page, '/');
      await waitForText(page.getByRole('navigation', { name: 'Account' }), 'Sign in');
      assert.ok(visited.some((u) => new URL(u).pathname === '/signed-out'), visited.join(' '));
      assert.ok(visited.every((u) => !u.includes(sid)), visited.join(' '));
      await open(page, '/profile', mode);
      await waitForPath(page, '/signin');

      // The signed-out page has nothing left to load.
      await open(page, '/signed-out', mode);
      await waitForPath(page, '/');
      checkPage(page);
    });
  });
}
