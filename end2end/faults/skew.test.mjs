// Clock skew between nodes: node B runs 4 seconds ahead and node C 4 seconds behind (libfaketime
// on the process, its timers left alone). A code made on B is redeemed on C, the refresh token
// rotates on every node, each access token is taken by every node, and a DPoP nonce one node
// hands out is taken by another. Nothing breaks.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { generateKeyPair, exportJWK, SignJWT } from 'jose';

import { startCluster } from '../cluster/cluster.mjs';
import { signedUp, codeFlow } from '../cluster/people.mjs';

const faketime = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const skewed = (offset) => ({ LD_PRELOAD: faketime, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1' });
const unique = () => `skew-${randomBytes(5).toString('hex')}@example.com`;
const form = (fields) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields),
});

describe('clock skew between nodes', { skip: !existsSync(faketime) && `${faketime} is missing (apt-get install libfaketime)` }, () => {
  let cluster;
  let a;
  let b;
  let c;

  before(async () => {
    cluster = await startCluster({ nodeEnv: { b: skewed('+4s'), c: skewed('-4s') } });
    [a, b, c] = cluster.nodes.map((n) => n.url);
  });

  after(async () => {
    await cluster?.stop();
  });

  test('the nodes really disagree about the time', async () => {
    const clock = async (node) => Date.parse((await fetch(`${node}/healthz`)).headers.get('date'));
    const ahead = (await clock(b)) - (await clock(c));
    assert.ok(ahead >= 7_000 && ahead <= 9_000, `B is ${ahead} ms ahead of C`);
  });

  test('a code made on B is redeemed on C; refresh and access tokens work on every node', async () => {
    const app = JSON.parse(
      await cluster.cli([
        'client', 'create', '--name', 'Shop', '--first-party', '--redirect-uri', 'https://shop.example/cb', '--json',
      ]),
    );
    app.redirect_uri = 'https://shop.example/cb';
    const person = await signedUp(cluster, unique(), a);
    let tokens = await codeFlow(cluster, person, b, app, { redeemAt: c, scope: 'openid profile offline_access' });
    assert.ok(tokens.refresh_token, 'a refresh token with offline_access');
    const basic = `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
    for (const node of [a, b, c, a]) {
      for (const reader of [a, b, c]) {
        const info = await fetch(`${reader}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
        assert.equal(info.status, 200, `userinfo at ${reader} with a token from the last node`);
      }
      const refreshed = await fetch(`${node}/oauth2/token`, {
        ...form({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic },
      });
      assert.equal(refreshed.status, 200, `refresh at ${node}: ${await refreshed.clone().text()}`);
      tokens = await refreshed.json();
    }
  });

  test('a DPoP nonce handed out by B is taken by C', async () => {
    const service = JSON.parse(
      await cluster.cli(['client', 'create', '--name', 'Batch', '--service', '--scope', 'orders.read', '--require-dpop', '--json']),
    );
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = (url, nonce) =>
      new SignJWT({ htm: 'POST', htu: url, jti: randomBytes(12).toString('hex'), ...(nonce ? { nonce } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .sign(privateKey);
    const basic = `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`;
    const tokenAt = async (node, nonce) => {
      // The proof names the public token endpoint (the balancer's), as a client sees it.
      const htu = `${cluster.baseURL}/oauth2/token`;
      return fetch(`${node}/oauth2/token`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic, DPoP: await proof(htu, nonce),
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders.read' }),
      });
    };
    const first = await tokenAt(b);
    assert.equal(first.status, 400);
    assert.equal((await first.json()).error, 'use_dpop_nonce');
    const nonce = first.headers.get('dpop-nonce');
    assert.ok(nonce, 'B hands out a nonce');
    const second = await tokenAt(c, nonce);
    assert.equal(second.status, 200, `C takes B's nonce: ${await second.clone().text()}`);
    assert.equal((await second.json()).token_type, 'DPoP');
  });
});
