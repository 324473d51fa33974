// A streaming replica serving the customer search and the audit trail, on a private primary
// and a hot standby of the test's own (`faults/postgres.mjs`), the node told of it by
// CIAM_DATABASE_REPLICA_URL. With the standby's replay paused, a person made on the primary is
// not found by the management API's search nor by the console's, nor their creation by the
// API's audit trail: each reads the replica; once it has replayed, each finds them. Left paused
// past the allowed lag, it is passed over (the primary finds them) until it has caught up.
// With the replica stopped, both searches still answer, from the primary, and promptly;
// sign-ins, the rest of the API and readiness do not notice. Started again, the replica serves
// the searches again.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { startCluster } from '../cluster/cluster.mjs';
import { signedUp } from '../cluster/people.mjs';
import { startPrivatePostgres, startReplica } from './postgres.mjs';

const unique = (what) => `replica-${what}-${randomBytes(4).toString('hex')}@example.com`;
/** The replica pool's acquire timeout (server/src/startup.rs), and a margin for the rest. */
const REPLICA_ACQUIRE_TIMEOUT_MS = 1_000;
const MARGIN_MS = 1_500;
/** How far behind the replica may be, and how often its lag is measured (`domain/replica.rs`). */
const MAX_LAG_MS = 5_000;
const LAG_EVERY_MS = 1_000;
/**
 * How long the primary serves the replica's reads after the replica failed one, or failed the
 * lag's measure (each second while it is down, so up to a second after it is back), and a margin.
 */
const REST_MS = 12_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const STAFF_PASSWORD = 'violet tractor sings at dawn';

describe('a streaming replica serving the customer search', () => {
  let primary;
  let replica;
  let cluster;
  let auth;
  let staffCookie;

  before(async () => {
    primary = await startPrivatePostgres();
    replica = await startReplica(primary);
    // The replica's URL names the same database as the primary's: only the port differs.
    const replicaUrl = new URL(primary.url);
    replicaUrl.port = String(replica.port);
    cluster = await startCluster({
      size: 1,
      databaseUrl: primary.url,
      env: { CIAM_DATABASE_REPLICA_URL: replicaUrl.href },
    });
    const service = JSON.parse(
      await cluster.cli(['client', 'create', '--name', 'Sync', '--service', '--scope', 'users:read', '--scope', 'users:write', '--scope', 'audit:read', '--json']),
    );
    const basic = `Basic ${Buffer.from(`${service.client_id}:${service.client_secret}`).toString('base64')}`;
    const granted = await fetch(`${cluster.baseURL}/oauth2/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'users:read users:write audit:read' }),
    });
    assert.equal(granted.status, 200, `client credentials: ${await granted.clone().text()}`);
    auth = `Bearer ${(await granted.json()).access_token}`;

    // A support agent, signed in to the console (with a password alone, as the benchmarks do).
    await cluster.cli(['settings', 'mfa', 'optional']);
    const link = (await cluster.cli(['admin', 'create', '--email', 'support@replica.example', '--role', 'support']))
      .match(/https?:\/\/\S+/)[0];
    const reset = await consolePost('reset-password', { token: new URL(link).searchParams.get('token'), password: STAFF_PASSWORD });
    assert.equal(reset.status, 200, `staff sign-in: ${await reset.text()}`);
    staffCookie = reset.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('session='));
    assert.ok(staffCookie, 'the staff sign-in set a session');
    await replica.caughtUp();
  });

  after(async () => {
    await cluster?.stop();
    await replica?.destroy();
    await primary?.destroy();
  });

  function consolePost(endpoint, fields, cookie = '') {
    return fetch(`${cluster.baseURL}/api/${endpoint}`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        Origin: cluster.baseURL,
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: cookie,
      },
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
  }

  /** Makes a person through the management API (on the primary); returns their id. */
  async function create(email) {
    const res = await fetch(`${cluster.baseURL}/api/v1/people`, {
      method: 'POST',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, display_name: 'Replica Person' }),
    });
    const body = await res.text();
    assert.equal(res.status, 201, `create ${email}: ${body}`);
    assert.equal(await primary.sql(`SELECT count(*) FROM users WHERE email = '${email}'`), '1', 'the primary has them');
    return JSON.parse(body).id;
  }

  /** Whether the management API's search and the console's find `email`, and how long each took. */
  async function found(email) {
    let t = performance.now();
    const api = await fetch(`${cluster.baseURL}/api/v1/people?${new URLSearchParams({ q: email })}`, {
      headers: { Authorization: auth },
    });
    const apiBody = await api.text();
    const apiMs = performance.now() - t;
    assert.equal(api.status, 200, `the API's search for ${email}: ${api.status} ${apiBody}`);
    t = performance.now();
    const console_ = await consolePost('console/customers', { 'query[q]': email }, staffCookie);
    const consoleBody = await console_.text();
    const consoleMs = performance.now() - t;
    assert.equal(console_.status, 200, `the console's search for ${email}: ${console_.status} ${consoleBody}`);
    return {
      api: JSON.parse(apiBody).items.some((p) => p.email === email),
      console: JSON.parse(consoleBody).rows.some((r) => r.email === email),
      slowest: Math.max(apiMs, consoleMs),
    };
  }

  /** How many audit events about person `id` the management API lists. */
  async function audited(id) {
    const res = await fetch(`${cluster.baseURL}/api/v1/audit-events?${new URLSearchParams({ subject: id })}`, {
      headers: { Authorization: auth },
    });
    const body = await res.text();
    assert.equal(res.status, 200, `the audit events about ${id}: ${res.status} ${body}`);
    return JSON.parse(body).items.length;
  }

  /**
   * Pauses the replica's replay, makes a person, and checks neither search finds them, nor the
   * audit trail their creation, until it resumes.
   */
  async function servedByReplica(what) {
    await replica.pauseReplay();
    try {
      const email = unique(what);
      const id = await create(email);
      assert.equal(await replica.sql(`SELECT count(*) FROM users WHERE email = '${email}'`), '0', 'the replica has not replayed them');
      assert.equal(await audited(id), 0, "the audit trail's reader found an event only the primary has: it did not read the replica");
      const before = await found(email);
      assert.equal(before.api, false, `the API's search found ${email}, which only the primary has: it did not read the replica`);
      assert.equal(before.console, false, `the console's search found ${email}, which only the primary has: it did not read the replica`);
      await replica.resumeReplay();
      await replica.caughtUp();
      assert.ok((await audited(id)) > 0, 'the audit trail lists their creation once the replica has replayed it');
      const after = await found(email);
      assert.equal(after.api, true, `the API's search finds ${email} once the replica has replayed them`);
      assert.equal(after.console, true, `the console's search finds ${email} once the replica has replayed them`);
    } finally {
      await replica.resumeReplay().catch(() => {});
    }
  }

  test('the searches read the replica: a person it has not replayed is not found until it has', async () => {
    await servedByReplica('paused');
  });

  test('a replica more than five seconds behind is passed over until it has caught up', async () => {
    await replica.pauseReplay();
    try {
      const email = unique('behind');
      await create(email);
      const early = await found(email);
      assert.equal(early.api, false, 'a moment behind, the replica still serves the search');
      // Past the allowed lag (`domain/replica.rs` MAX_LAG), measured each second.
      await sleep(MAX_LAG_MS + 2 * LAG_EVERY_MS);
      const late = await found(email);
      assert.equal(late.api, true, `the API's search finds ${email} from the primary while the replica lags`);
      assert.equal(late.console, true, `the console's search finds ${email} from the primary while the replica lags`);
      assert.equal((await fetch(`${cluster.nodes[0].url}/readyz`)).status, 200, 'the node stays ready');
    } finally {
      await replica.resumeReplay();
    }
    await replica.caughtUp();
    await sleep(2 * LAG_EVERY_MS);
    await servedByReplica('caught-up');
  });

  test('with the replica stopped, the searches answer from the primary; the rest does not notice', async () => {
    const replayed = unique('replayed');
    await create(replayed);
    await replica.caughtUp();
    await replica.stop();
    try {
      // Made while the replica is down: only the primary can find them.
      const email = unique('down');
      const id = await create(email);
      const took = [];
      for (const who of [email, replayed, email]) {
        const answer = await found(who);
        took.push(answer.slowest.toFixed(0));
        assert.equal(answer.api, true, `the API's search finds ${who} with the replica down`);
        assert.equal(answer.console, true, `the console's search finds ${who} with the replica down`);
        assert.ok(
          answer.slowest <= REPLICA_ACQUIRE_TIMEOUT_MS + MARGIN_MS,
          `a search waits no longer than the replica pool's acquire timeout (${answer.slowest.toFixed(0)} ms)`,
        );
      }
      console.log(`searches with the replica down, the slower of the two each time: ${took.join(', ')} ms`);
      assert.equal((await fetch(`${cluster.nodes[0].url}/readyz`)).status, 200, 'the node stays ready');
      const read = await fetch(`${cluster.baseURL}/api/v1/people/${id}`, { headers: { Authorization: auth } });
      assert.equal(read.status, 200, `a person by id: ${await read.text()}`);
      // A sign-up and a password sign-in (throws unless the person ends up signed in).
      const person = unique('sign-in');
      await signedUp(cluster, person);
    } finally {
      await replica.start();
    }
  });

  test('started again, the replica serves the searches again', async () => {
    await replica.caughtUp();
    // After a failure the primary serves the searches for ten seconds (`domain/replica.rs`
    // REST); then the pool connects again on its own. A search or two first, as traffic would.
    await sleep(REST_MS);
    for (let i = 0; i < 2; i += 1) await found(unique('warm'));
    await servedByReplica('again');
  });
});
