// The database failing under load, on a private Postgres of the test's own. Stopped and started
// again: while it is down every request is answered with 503 (never a 500, and no later than
// the pool's acquire timeout), readiness is red; once it is back the nodes recover by
// themselves, and the reconciler finds every account a client was told exists, whole. Turned
// read-only (as after a full disk): sign-ups get a clear 503, readiness is red, nothing is
// half-written, and all is well again once it takes writes. The provider's endpoints, the
// management API and SCIM answer a stopped database the same way, each in its own error shape.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startCluster } from '../cluster/cluster.mjs';
import { codeFlow, register, signedUp } from '../cluster/people.mjs';
import { startPrivatePostgres } from './postgres.mjs';
import { accountsHeld, signUpLoad } from './sign-ups.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = () => `restart-${randomBytes(5).toString('hex')}@example.com`;
/** The pool's acquire timeout (server/src/startup.rs), and a margin for the rest of the answer. */
const ACQUIRE_TIMEOUT_MS = 5_000;
const MARGIN_MS = 1_500;

describe('the database failing under load', () => {
  let postgres;
  let cluster;

  before(async () => {
    postgres = await startPrivatePostgres();
    cluster = await startCluster({ size: 2, databaseUrl: postgres.url });
  });

  after(async () => {
    await cluster?.stop();
    await postgres?.destroy();
  });

  test('503 while it is down, no hang past the timeout, recovery by itself, nothing lost', async () => {
    // Straight to the nodes, in turn: the balancer takes a node out once its readiness turns
    // red, and answers 503 itself; what is tested here is each node's own answer.
    const load = signUpLoad(cluster, {
      prefix: 'restart',
      phase: 'up',
      loops: 3,
      nodeFor: (turn) => cluster.nodes[turn % cluster.nodes.length].url,
      pauseMs: (attempt) => (attempt.status === 200 ? 0 : 100),
    });
    const { attempts, by } = load;
    await sleep(1_500);
    await postgres.stop();
    load.setPhase('down');
    await sleep(1_000);
    const readiness = await fetch(`${cluster.nodes[0].url}/readyz`);
    assert.equal(readiness.status, 503, 'readiness is red while the database is down');
    await sleep(5_000);
    // The balancer has taken both nodes out by now: its own 503 says when to come back too.
    const fromBalancer = await fetch(`${cluster.baseURL}/signin`);
    await fromBalancer.arrayBuffer();
    assert.equal(fromBalancer.status, 503, 'the balancer answers for nodes that are not ready');
    assert.equal(fromBalancer.headers.get('x-served-by'), null, 'no node answered');
    assert.equal(fromBalancer.headers.get('retry-after'), '1', "the balancer's 503 says when to come back");
    load.setPhase('restarting');
    const restartedAt = Date.now();
    await postgres.start();
    await sleep(3_000);
    load.setPhase('back');
    await sleep(3_000);
    await load.stop();
    console.log(`sign-ups by phase: ${load.summary(['up', 'down', 'restarting', 'back'])}`);
    const slowest = Math.max(...attempts.map((a) => a.took));
    console.log(`slowest answer: ${slowest} ms`);

    const down = by('down');
    assert.ok(down.length > 0);
    // A request that waited for a connection may be served once Postgres is back, within the
    // acquire timeout; every other answer while down is a 503 with Retry-After.
    const servedLater = (a) => a.status === 200 && a.finished >= restartedAt;
    const wrong = down.filter((a) => !servedLater(a) && (a.status !== 503 || a.retryAfter === null));
    assert.deepEqual(wrong.map((a) => `${a.status} ${a.body}`), [], 'every answer while down is a 503 with Retry-After');
    assert.ok(down.some((a) => a.status === 503), 'some answers came while it was down');
    assert.ok(slowest <= ACQUIRE_TIMEOUT_MS + MARGIN_MS, `no answer waits past the acquire timeout (slowest ${slowest} ms)`);
    assert.ok(by('back').length > 0 && by('back').every((a) => a.status === 200), 'every sign-up succeeds once it is back');
    assert.equal((await fetch(`${cluster.nodes[0].url}/readyz`)).status, 200);

    // The reconciler: told done means there, whole.
    const { made, whole } = await accountsHeld(postgres.sql, attempts.map((a) => a.email));
    const lost = attempts.filter((a) => a.status === 200 && !whole.includes(a.email)).map((a) => a.email);
    assert.deepEqual(lost, [], 'accounts the clients were told exist, whole');
    assert.equal(made.length, whole.length, 'no account without its consents or its mail');
  });
  test('read-only: a clear 503, readiness red, nothing half-written, then back to normal', async () => {
    const node = cluster.nodes[0].url;
    const signUp = async (email) => {
      const res = await register(cluster, node, email);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
    };
    await postgres.sql('ALTER SYSTEM SET default_transaction_read_only = on');
    await postgres.sql('SELECT pg_reload_conf()');
    try {
      // Reloading reaches every connection at its next statement.
      await sleep(500);
      assert.equal((await fetch(`${node}/readyz`)).status, 503, 'readiness is red while read-only');
      const refused = [];
      for (let i = 0; i < 3; i += 1) refused.push(unique());
      for (const email of refused) {
        const answer = await signUp(email);
        assert.equal(answer.status, 503, `a sign-up while read-only: ${answer.status} ${answer.body}`);
        assert.equal(answer.retryAfter, '1');
        assert.match(answer.body, /Unavailable/);
      }
      await postgres.sql('ALTER SYSTEM RESET default_transaction_read_only');
      await postgres.sql('SELECT pg_reload_conf()');
      await sleep(500);
      const none = await postgres.sql(`SELECT count(*) FROM users WHERE email = ANY(ARRAY['${refused.join("','")}'])`);
      assert.equal(none, '0', 'nothing was written');
    } finally {
      await postgres.sql('ALTER SYSTEM RESET default_transaction_read_only').catch(() => {});
      await postgres.sql('SELECT pg_reload_conf()').catch(() => {});
    }
    assert.equal((await fetch(`${node}/readyz`)).status, 200, 'ready again');
    const email = unique();
    assert.equal((await signUp(email)).status, 200, 'sign-ups work again');
  });

  test('the provider, the management API and SCIM answer a stopped database with 503 in their own shapes', async () => {
    const node = cluster.nodes[1].url;
    const app = JSON.parse(
      await cluster.cli([
        'client', 'create', '--name', 'Shop', '--first-party', '--redirect-uri', 'https://shop.example/cb', '--json',
      ]),
    );
    app.redirect_uri = 'https://shop.example/cb';
    const basic = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const person = await signedUp(cluster, unique(), node);
    const tokens = await codeFlow(cluster, person, node, app, { redeemAt: node, scope: 'openid profile offline_access' });
    const service = JSON.parse(
      await cluster.cli(['client', 'create', '--name', 'Sync', '--service', '--scope', 'users:read', '--json']),
    );
    const granted = await fetch(`${node}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(service.client_id, service.client_secret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'users:read' }),
    });
    assert.equal(granted.status, 200);
    const { access_token: serviceToken } = await granted.json();
    const scimToken = (await cluster.cli(['scim-client', 'add', 'HR'])).match(/^token: (\S+)$/m)[1];

    // The refresh token the app holds: each rotation that succeeds hands it the next one.
    let refreshToken = tokens.refresh_token;
    const calls = {
      'refresh at the token endpoint': async () => {
        const res = await fetch(`${node}/oauth2/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(app.client_id, app.client_secret) },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
        });
        if (res.status === 200) refreshToken = (await res.clone().json()).refresh_token;
        return res;
      },
      userinfo: () => fetch(`${node}/oauth2/userinfo`, { headers: { Authorization: `Bearer ${tokens.access_token}` } }),
      introspection: () => fetch(`${node}/oauth2/introspect`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic(app.client_id, app.client_secret) },
        body: new URLSearchParams({ token: refreshToken }),
      }),
      'the management API': () => fetch(`${node}/api/v1/people`, { headers: { Authorization: `Bearer ${serviceToken}` } }),
      SCIM: () => fetch(`${node}/scim/v2/Users`, { headers: { Authorization: `Bearer ${scimToken}` } }),
    };
    for (const [name, call] of Object.entries(calls)) {
      assert.equal((await call()).status, 200, `${name} works while the database is up`);
    }

    await postgres.stop();
    try {
      for (const [name, call] of Object.entries(calls)) {
        const res = await call();
        const body = await res.text();
        // Userinfo may be answered from the node's memory (the revoked-token mirror and the
        // people cache); if it needs the database, it is the same 503.
        if (name === 'userinfo' && res.status === 200) continue;
        assert.equal(res.status, 503, `${name} while the database is down: ${res.status} ${body}`);
        assert.equal(res.headers.get('retry-after'), '1', `${name} says when to come back`);
        if (name === 'the management API') {
          assert.equal(res.headers.get('content-type'), 'application/problem+json');
          assert.equal(JSON.parse(body).type, 'urn:keyhaven:problem:unavailable');
        } else if (name === 'SCIM') {
          assert.equal(JSON.parse(body).status, '503');
        } else if (name !== 'userinfo') {
          assert.equal(JSON.parse(body).error, 'temporarily_unavailable', `${name}: ${body}`);
        }
      }
    } finally {
      await postgres.start();
    }
    // Nothing was used up while it was down: the refresh token still works.
    let refreshed;
    for (let i = 0; i < 20; i += 1) {
      refreshed = await calls['refresh at the token endpoint']();
      if (refreshed.status !== 503) break;
      await sleep(250);
    }
    assert.equal(refreshed.status, 200, `the refresh token still works afterwards: ${await refreshed.text()}`);
  });
});
