// What each node keeps in memory, on three nodes: the signing keys, registered clients,
// revoked tokens, people's claims and the brands pages wear. A change made through one node (or the command line)
// holds on every node at once: the change notices reach them all within milliseconds.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startCluster } from './cluster.mjs';
import { signedUp, codeFlow } from './people.mjs';

const unique = () => `cluster-${randomBytes(5).toString('hex')}@example.com`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));

/** Retries `check` (which throws until it holds) for up to `within` ms; returns how long it took. */
async function holdsWithin(within, check) {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - start;
    } catch (e) {
      if (Date.now() - start > within) throw e;
      await sleep(25);
    }
  }
}

/** The documented delay for a change to reach every node (docs/ARCHITECTURE.md, "In-memory copies"). */
const NOTICE_DELAY_MS = 2_000;

describe('in-memory copies across nodes', () => {
  let cluster;
  let service;
  const basic = () => `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`;

  async function tokenAt(node, scope = 'users:read') {
    const res = await fetch(`${node}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic() },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    assert.equal(res.status, 200, `token at ${node}: ${await res.clone().text()}`);
    return res.json();
  }

  async function introspectAt(node, token) {
    const res = await fetch(`${node}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic() },
      body: new URLSearchParams({ token }),
    });
    assert.equal(res.status, 200);
    return (await res.json()).active;
  }

  before(async () => {
    cluster = await startCluster();
    service = JSON.parse(
      await cluster.cli(['client', 'create', '--name', 'Sync', '--service', '--scope', 'users:read', '--json']),
    );
  });

  after(async () => {
    await cluster?.stop();
  });

  test('keys rotated from the command line are published and used by every node at once', async () => {
    const kids = async (state) =>
      (await cluster.sql(`SELECT string_agg(kid, ',' ORDER BY kid) FROM signing_keys WHERE state = '${state}'`)).split(',');
    for (const node of cluster.nodes) await tokenAt(node.url);
    const oldCurrent = await kids('current');
    await cluster.cli(['keys', 'rotate']);
    const newCurrent = await kids('current');
    const newNext = await kids('next');
    assert.notDeepEqual(newCurrent, oldCurrent);
    for (const node of cluster.nodes) {
      const took = await holdsWithin(NOTICE_DELAY_MS, async () => {
        const jwks = await (await fetch(`${node.url}/.well-known/jwks.json`)).json();
        const published = jwks.keys.map((k) => k.kid);
        for (const kid of [...newCurrent, ...newNext, ...oldCurrent]) {
          assert.ok(published.includes(kid), `${node.name} publishes ${kid}`);
        }
        const { access_token: token } = await tokenAt(node.url);
        assert.ok(newCurrent.includes(header(token).kid), `${node.name} signs with a new current key`);
      });
      console.log(`node ${node.name}: the rotation held after ${took} ms`);
    }
  });

  test('a client changed from the command line is seen by every node at once', async () => {
    for (const node of cluster.nodes) {
      assert.notEqual((await tokenAt(node.url)).expires_in, 120, 'the usual lifetime first (now cached)');
    }
    await cluster.cli(['client', 'update', service.client_id, '--access-token-ttl', '120']);
    for (const node of cluster.nodes) {
      await holdsWithin(NOTICE_DELAY_MS, async () => {
        assert.equal((await tokenAt(node.url)).expires_in, 120, `node ${node.name} uses the new lifetime`);
      });
    }
  });

  test('a token revoked on A is inactive on B and C at once', async () => {
    const [a, b, c] = cluster.nodes.map((n) => n.url);
    const { access_token: token } = await tokenAt(a);
    const people = (node) => fetch(`${node}/api/v1/people`, { headers: { Authorization: `Bearer ${token}` } });
    for (const node of [a, b, c]) {
      assert.equal(await introspectAt(node, token), true);
      assert.equal((await people(node)).status, 200, `the management API at ${node} takes the token first`);
    }
    const revoked = await fetch(`${a}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic() },
      body: new URLSearchParams({ token }),
    });
    assert.equal(revoked.status, 200);
    for (const node of [b, c]) {
      await holdsWithin(NOTICE_DELAY_MS, async () => assert.equal(await introspectAt(node, token), false));
      assert.equal((await people(node)).status, 401, `the management API at ${node} refuses the revoked token`);
    }
  });

  test("a person's new name reaches userinfo on every node at once", async () => {
    const [a, b, c] = cluster.nodes.map((n) => n.url);
    const app = JSON.parse(
      await cluster.cli(['client', 'create', '--name', 'Shop', '--first-party', '--redirect-uri', 'https://shop.example/cb', '--json']),
    );
    app.redirect_uri = 'https://shop.example/cb';
    const email = unique();
    const person = await signedUp(cluster, email, a);
    const { access_token: token } = await codeFlow(cluster, person, a, app);
    const userinfo = async (node) => {
      const res = await fetch(`${node}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      return (await res.json()).name;
    };
    for (const node of [a, b, c]) assert.equal(await userinfo(node), 'Cluster Person', 'cached on every node');
    const renamed = await person.post(b, 'update-profile', { display_name: 'Renamed On B' });
    assert.ok(renamed.status < 400, `renaming: ${renamed.status}`);
    for (const node of [a, c]) {
      await holdsWithin(NOTICE_DELAY_MS, async () => assert.equal(await userinfo(node), 'Renamed On B'));
    }
  });

  test('a brand changed in the database is worn by every node at once', async () => {
    const footer = async (node) => {
      const res = await fetch(`${node}/signin`);
      assert.equal(res.status, 200);
      return res.text();
    };
    const words = `Kept by node memory ${randomBytes(4).toString('hex')}`;
    for (const node of cluster.nodes) {
      assert.ok(!(await footer(node.url)).includes(words), `${node.name} wears the default words first (now cached)`);
    }
    await cluster.sql(`UPDATE brands SET footer_text = '${words}', version = version + 1 WHERE client_id IS NULL`);
    for (const node of cluster.nodes) {
      await holdsWithin(NOTICE_DELAY_MS, async () => {
        assert.ok((await footer(node.url)).includes(words), `${node.name} wears the new footer`);
      });
    }
  });
});
